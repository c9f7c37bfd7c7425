// The fast path: `/dagsync/sync/2.0.0`. In one round trip a reader that holds one version of a
// store gets exactly what a newer version adds, from any peer that holds the newer one.
//
//   request  {s: store id, h: the reader's tree root or null, w: the commit it wants}
//   reply    {b: bytes}                 a DAG-CBOR block, whole (the commit first)
//            {b: bytes, k: codec}       a block of another codec (raw chunks of large values)
//            {d: digest, o: ops}        a node as a delta against a node the reader holds, named by
//                                       the sha2-256 digest of its (DAG-CBOR) block
//            {n: count}                 the end
//            {e: code, m: message}      an error: 'unknown-store', 'not-found', 'incomplete', ...
//
// Blocks carry no CIDs: the reader computes each from the bytes and uses only the blocks the
// verified commit reaches, so a wrong block is never used (it is simply missing, and fetched
// elsewhere). Per changed node, that leaves little more than the bytes that changed.

import { CommitNotFoundError, type Store } from '@dagsync/store'
import { BlockNotFoundError, DAG_CBOR } from '@dagsync/tree'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { encodeDelta } from './delta.ts'
import { ProtocolError } from './errors.ts'
import { receiveMessages } from './receive.ts'
import type { ReceivedBlocks } from './received.ts'
import { call, type Message, ServeError } from './rpc.ts'

export const SYNC_PROTOCOL = '/dagsync/sync/2.0.0'

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
    yield* newBlockMessages(store, request.have, request.want)
  }
}

/**
 * What commit `want` adds to a holder of tree `have`, as sync reply messages: the commit block,
 * then each new block, as a delta against the block it replaces where there is one.
 */
export async function* newBlockMessages(store: Store, have: CID | null, want: CID): AsyncGenerator<Message> {
  let target: Awaited<ReturnType<Store['at']>>
  try {
    target = await store.at(want)
  } catch (err) {
    if (err instanceof CommitNotFoundError) throw new ServeError('not-found', `this peer does not hold commit ${want}`)
    throw err
  }
  yield { b: await store.tree.blockBytes(want) }
  try {
    for await (const block of store.tree.newBlocks(have ?? store.tree.emptyRoot, target.root)) {
      if (block.base !== undefined && block.offsets !== undefined) {
        const ops = encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets)
        yield { d: block.base.cid.multihash.digest, o: ops }
      } else {
        yield block.cid.code === DAG_CBOR ? { b: block.bytes } : { b: block.bytes, k: block.cid.code }
      }
    }
  } catch (err) {
    // This peer lacks the reader's old tree (or part of the new one): the reader takes what it
    // was sent and fetches the rest elsewhere.
    if (err instanceof BlockNotFoundError) throw new ServeError('incomplete', `this peer lacks block ${err.cid}`)
    throw err
  }
}

/**
 * Asks `peer` for what `request.want` adds to `request.have`, rebuilding deltas from the blocks
 * of the local store. A peer whose first block is not the commit asked for fails the fetch with
 * HashMismatchError; a reply past `into`'s limits fails with ReceiveLimitError, and the stream is
 * closed. Blocks received before a failure stay in `into`, so a caller can finish elsewhere.
 */
export async function fetchNewBlocks(
  libp2p: Libp2p,
  peer: PeerId,
  request: SyncRequest,
  local: Store,
  into: ReceivedBlocks,
  signal?: AbortSignal,
): Promise<void> {
  const replies = call(
    libp2p,
    peer,
    SYNC_PROTOCOL,
    { s: request.store, h: request.have, w: request.want },
    { signal, onBytes: (n) => into.addWireBytes(n) },
  )
  // The commit asked for comes first; a peer that sends anything else is caught at once.
  await receiveMessages(replies, local, into, request.want)
}
