// A cold replica's first head over plain HTTP, before libp2p has loaded: the store's signed IPNS
// record from the gateways (checked against the store's key, as gossip is), then the head's DAG as
// one CAR (each block hashed against its CID and kept only if the commit reaches it), any block
// the CAR lacked one by one, every tree node checked by the walk; the head moves only once every
// block is here. A chunk of its own: it imports no libp2p and no helia (docs/bundle.md).

import type { SyncReport } from '@dagsync/peer'
import { DEFAULT_RECEIVE_LIMITS, GatewayClient, prefetchCar, storePublicKey } from '@dagsync/peer/http'
import { decodeCommit, type Store } from '@dagsync/store'
import { type Block, cidKey } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'

/**
 * What the head's CAR may bring. The start holds the head's whole DAG until it writes it in one
 * transaction, whatever the limit (a block past it comes on its own), and the CAR keeps only
 * blocks the signed commit reaches: so the limit is not what bounds memory, and at a sync's
 * (64 MiB) a 1,000,000-key store's last 4,580 blocks came one request each.
 */
export const HTTP_START_CAR_LIMITS = {
  maxBytes: 512 * 1024 * 1024,
  maxBlocks: 4 * DEFAULT_RECEIVE_LIMITS.maxBlocks,
} as const

/** The head a gateway's record names does not hold together (its seq, or a block, is wrong). */
export class HttpStartError extends Error {
  override readonly name = 'HttpStartError'
}

/**
 * Moves `store` (a read-only replica holding nothing of store `id` yet) to the head the gateways'
 * record names, and says how it went (path 'http'; `fetched`: blocks the CAR lacked). The caller
 * is the one writer of the replica's storage (it holds the node's lock). Throws, and changes
 * nothing, when a record or a block does not check.
 */
export async function startOverHttp(
  store: Store,
  id: string,
  gateways: readonly string[],
  signal: AbortSignal,
): Promise<SyncReport> {
  const started = performance.now()
  const client = new GatewayClient(gateways)
  const announcement = await client.announcement(storePublicKey(id), id, signal)
  const root = announcement.commit
  const { blocks } = await prefetchCar(await client.car(root, signal), root, HTTP_START_CAR_LIMITS)
  // What the CAR did not bring (it was cut, or the gateway sent less) comes block by block, checked.
  let fetched = 0
  let fetchedBytes = 0
  const block = async (cid: CID): Promise<Uint8Array> => {
    const held = blocks.get(cidKey(cid))
    if (held !== undefined) return held
    const bytes = await client.block(cid, signal)
    fetched++
    fetchedBytes += bytes.length
    return bytes
  }
  const received = performance.now()
  const commitBytes = await block(root)
  const commit = decodeCommit(root, commitBytes, true)
  if (commit.seq !== announcement.seq)
    throw new HttpStartError(`commit ${root} has seq ${commit.seq}, but its record says ${announcement.seq}`)
  const all: Block[] = [{ cid: root, bytes: commitBytes }]
  let waves = 0
  const walk = store.tree.walk(commit.tree, {
    getBlock: block,
    concurrency: 64,
    onWave: (wave) => {
      if (wave.some((cid) => !blocks.has(cidKey(cid)))) waves++
    },
  })
  for await (const next of walk) all.push(next)
  signal.throwIfAborted()
  const checked = performance.now()
  await store.adopt(commit, all)
  let carBytes = 0
  for (const bytes of blocks.values()) carBytes += bytes.length
  return {
    seq: commit.seq,
    ms: performance.now() - started,
    phases: { receive: received - started, check: checked - received, write: performance.now() - checked },
    path: 'http',
    wireBytes: carBytes + fetchedBytes,
    messages: blocks.size,
    blocks: all.length,
    fetched,
    fetchedBytes,
    // The record, the CAR, then a round per tree level with blocks the CAR lacked.
    roundTrips: 2 + waves,
  }
}
