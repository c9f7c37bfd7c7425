// The fast path: `/dagsync/sync/1.0.0`. In one round trip a reader that holds one version of a
// store gets exactly what a newer version adds, from any peer that holds the newer one.
//
//   request  {s: store id, h: the reader's tree root or null, w: the commit it wants}
//   reply    {c: CID, b: bytes}                a block, whole (the commit first)
//            {c: CID, d: base CID, o: ops}      a node as a delta against a node the reader holds
//            {n: count}                         the end
//            {e: code, m: message}              an error ('unknown-store', 'not-found', 'incomplete', ...)

import { CommitNotFoundError, type Store } from '@dagsync/store'
import { BlockNotFoundError, blockLinks, type MerkleSearchTree, verifyBlock } from '@dagsync/tree'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { applyDelta, encodeDelta } from './delta.ts'
import { ProtocolError } from './errors.ts'
import { call, type Message, ServeError } from './rpc.ts'

export const SYNC_PROTOCOL = '/dagsync/sync/1.0.0'

export interface SyncRequest {
  readonly store: string
  /** The root of the tree the reader holds, or null if it holds nothing of this store. */
  readonly have: CID | null
  /** The commit the reader wants. */
  readonly want: CID
}

function parseRequest(message: Message): SyncRequest {
  const { s, h, w } = message
  const have = h === null ? null : CID.asCID(h)
  const want = CID.asCID(w)
  if (typeof s !== 'string' || want === null || (h !== null && have === null)) {
    throw new ProtocolError('a sync request is {s: store id, h: CID or null, w: CID}')
  }
  return { store: s, have, want }
}

/** Answers sync requests for the stores `storeFor` finds (served or fully followed). */
export function syncHandler(storeFor: (id: string) => Store | undefined) {
  return async function* handle(message: Message): AsyncGenerator<Message> {
    const request = parseRequest(message)
    const store = storeFor(request.store)
    if (store === undefined) throw new ServeError('unknown-store', `this peer does not hold store ${request.store}`)
    let target: Awaited<ReturnType<Store['at']>>
    try {
      target = await store.at(request.want)
    } catch (err) {
      if (err instanceof CommitNotFoundError)
        throw new ServeError('not-found', `this peer does not hold commit ${request.want}`)
      throw err
    }
    yield { c: request.want, b: await readBlock(store, request.want) }
    try {
      for await (const block of store.tree.newBlocks(request.have ?? store.tree.emptyRoot, target.root)) {
        if (block.base !== undefined && block.offsets !== undefined) {
          yield {
            c: block.cid,
            d: block.base.cid,
            o: encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets),
          }
        } else {
          yield { c: block.cid, b: block.bytes }
        }
      }
    } catch (err) {
      // This peer lacks the reader's old tree (or part of the new one): the reader takes what it
      // was sent and fetches the rest elsewhere.
      if (err instanceof BlockNotFoundError) throw new ServeError('incomplete', `this peer lacks block ${err.cid}`)
      throw err
    }
  }
}

async function readBlock(store: Store, cid: CID): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of store.storage.blockstore.get(cid)) chunks.push(chunk)
  return chunks.length === 1 ? chunks[0] : Uint8Array.from(chunks.flatMap((c) => [...c]))
}

/** What a fast-path fetch got, for the caller's completeness check and for stats. */
export interface FetchResult {
  /** Every block received, verified against its CID, by CID string. */
  readonly blocks: Map<string, { cid: CID; bytes: Uint8Array }>
  /** Blocks known to be held locally: the links of the nodes deltas were built on. */
  readonly present: Set<string>
  readonly wireBytes: number
  readonly messages: number
}

/**
 * Asks `peer` for what `request.want` adds to `request.have`, rebuilding deltas from local
 * blocks (`local`). Every block is verified against its CID as it arrives; a peer that sends a
 * wrong block fails the fetch with HashMismatchError. Blocks received before a failure are kept
 * in `into`, so a caller can finish elsewhere.
 */
export async function fetchNewBlocks(
  libp2p: Libp2p,
  peer: PeerId,
  request: SyncRequest,
  local: (cid: CID) => Promise<Uint8Array>,
  into: FetchResult,
  signal?: AbortSignal,
): Promise<void> {
  const stats = into as { -readonly [K in keyof FetchResult]: FetchResult[K] }
  const replies = call(
    libp2p,
    peer,
    SYNC_PROTOCOL,
    { s: request.store, h: request.have, w: request.want },
    { signal, onBytes: (n) => (stats.wireBytes += n) },
  )
  for await (const message of replies) {
    stats.messages++
    const cid = CID.asCID(message.c)
    if (cid === null) throw new ProtocolError('a sync reply block has no CID')
    let bytes: Uint8Array
    if (message.b instanceof Uint8Array) {
      bytes = message.b
    } else {
      const base = CID.asCID(message.d)
      if (base === null || !Array.isArray(message.o))
        throw new ProtocolError('a sync reply is a block {c, b} or a delta {c, d, o}')
      const baseBytes = await local(base)
      bytes = applyDelta(baseBytes, message.o)
      for (const link of blockLinks(base, baseBytes)) into.present.add(link.toString())
    }
    verifyBlock(cid, bytes)
    into.blocks.set(cid.toString(), { cid, bytes })
  }
}

export function emptyFetch(): FetchResult {
  return { blocks: new Map(), present: new Set(), wireBytes: 0, messages: 0 }
}

/** Reads a block's bytes through a tree (its cache first), for delta bases. */
export function treeBlocks(tree: MerkleSearchTree): (cid: CID) => Promise<Uint8Array> {
  return (cid) => tree.blockBytes(cid)
}
