// The fast path: `/dagsync/sync/2.0.0`. In one round trip a reader that holds one version of a
// store gets exactly what a newer version adds, from any peer that holds the newer one.
//
//   request  {s: store id, h: the reader's tree root or null, w: the commit it wants}
//            {s, h, w, f: [CID...]}     a later round: the whole DAGs under these blocks (which
//                                       the commit reaches through blocks the reader took before)
//            l: [bytes, messages]       with either: what the reader will take of this reply
//   reply    {b: bytes}                 a DAG-CBOR block, whole (the commit first)
//            {b: bytes, k: codec}       a block of another codec (raw chunks of large values)
//            {d: digest, o: ops}        a node as a delta against a node the reader holds, named by
//                                       the sha2-256 digest of its (DAG-CBOR) block
//            {t: 1}                     the reply stops at the reader's budget: ask again
//            {n: count}                 the end
//            {e: code, m: message}      an error: 'unknown-store', 'not-found', 'incomplete', ...
//
// Blocks carry no CIDs: the reader computes each from the bytes and uses only the blocks the
// verified commit reaches, so a wrong block is never used (it is simply missing, and fetched
// elsewhere). Per changed node, that leaves little more than the bytes that changed.

import { CommitNotFoundError, type Store } from '@dagsync/store'
import { BlockNotFoundError, blockLinks, cidKey, DAG_CBOR, walkWaves } from '@dagsync/tree'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { type DeltaOp, deltaSize, encodeDelta, rebuiltSize } from './delta.ts'
import { ProtocolError } from './errors.ts'
import { idleTimeout } from './idle.ts'
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
  /**
   * A later round of a sync cut by the reader's limits: the blocks still missing below what it
   * took before. The reply is their whole DAGs (no commit first, no deltas).
   */
  readonly frontier?: readonly CID[]
  /**
   * What the reader will take of this reply: bytes of blocks (as rebuilt) and messages. A server
   * stops before either and says so, rather than have the reader cut the stream.
   */
  readonly budget?: { readonly bytes: number; readonly messages: number }
}

/** Blocks one later round may ask for (about 300 KiB of request). */
export const MAX_FRONTIER = 8192

function parseRequest(message: Message): SyncRequest {
  const { s, h, w, f, l } = message
  const have = h === null ? null : CID.asCID(h)
  const want = CID.asCID(w)
  if (typeof s !== 'string' || want === null || (h !== null && have === null)) {
    throw new ProtocolError('a sync request is {s: store id, h: CID or null, w: CID, f?: [CID]}')
  }
  const budget = parseBudget(l)
  if (f === undefined) return { store: s, have, want, ...budget }
  const frontier = Array.isArray(f) ? f.map((cid) => CID.asCID(cid)) : []
  if (frontier.length === 0 || frontier.length > MAX_FRONTIER || frontier.some((cid) => cid === null)) {
    throw new ProtocolError(`a sync request's f is a list of 1 to ${MAX_FRONTIER} CIDs`)
  }
  return { store: s, have, want, frontier: frontier as CID[], ...budget }
}

function parseBudget(l: unknown): { budget?: SyncRequest['budget'] } {
  if (l === undefined) return {}
  const [bytes, messages] = Array.isArray(l) && l.length === 2 ? l : []
  if (!Number.isSafeInteger(bytes) || !Number.isSafeInteger(messages) || bytes < 1 || messages < 1) {
    throw new ProtocolError("a sync request's l is [bytes, messages], each a positive integer")
  }
  return { budget: { bytes, messages } }
}

/** The bytes a reader counts for a reply message: a block's, or those of the block a delta rebuilds. */
function messageBytes(message: Message): number {
  if (message.b instanceof Uint8Array) return message.b.length
  return Array.isArray(message.o) ? rebuiltSize(message.o as DeltaOp[]) : 0
}

/**
 * `messages`, up to `budget`, then `{t: 1}` if any were left. The first `free` messages go
 * whatever the budget (the commit a first reply must start with).
 */
async function* withinBudget(
  messages: AsyncIterable<Message>,
  budget: SyncRequest['budget'],
  free: number,
): AsyncGenerator<Message> {
  if (budget === undefined) return yield* messages
  let bytes = 0
  let count = 0
  for await (const message of messages) {
    bytes += messageBytes(message)
    count++
    if (count > free && (bytes > budget.bytes || count > budget.messages)) {
      yield { t: 1 }
      return
    }
    yield message
  }
}

/** Answers sync requests for the stores `storeFor` finds (served or fully followed). */
export function syncHandler(storeFor: (id: string) => Store | undefined) {
  return async function* handle(message: Message): AsyncGenerator<Message> {
    const request = parseRequest(message)
    const store = storeFor(request.store)
    if (store === undefined) throw new ServeError('unknown-store', `this peer does not hold store ${request.store}`)
    const messages =
      request.frontier === undefined
        ? newBlockMessages(store, request.have, request.want)
        : frontierMessages(store, request.want, request.frontier)
    yield* withinBudget(messages, request.budget, request.frontier === undefined ? 1 : 0)
  }
}

/**
 * A later round's reply: the whole DAGs under `frontier`, one wave of links after another, so
 * each block comes after one that links to it. Only for a commit this peer holds.
 */
export async function* frontierMessages(store: Store, want: CID, frontier: readonly CID[]): AsyncGenerator<Message> {
  await commitHeld(store, want)
  yield* dagMessages(store, frontier)
}

/**
 * The whole DAGs under `roots`, one wave of links after another (so each block comes after one
 * that links to it), as they are stored: read 64 at a time, nodes not decoded, only their links
 * read. What a cold sync sends, and a later round.
 */
function dagMessages(store: Store, roots: readonly CID[]): AsyncGenerator<Message> {
  // Not the store's walkDag: it would try each root as a commit, and decoding a large value as one is slow.
  return walkWaves<CID, Uint8Array, Message>(roots, {
    cid: (cid) => cid,
    key: cidKey,
    // From the tree: a cached node's bytes without a read, and the empty tree's root, which a
    // store may never have written.
    read: async (cid) => {
      try {
        return await store.tree.blockBytes(cid)
      } catch (err) {
        if (err instanceof BlockNotFoundError) throw new ServeError('incomplete', `this peer lacks block ${cid}`)
        throw err
      }
    },
    expand: (cid, bytes, next) => {
      next.push(...blockLinks(cid, bytes))
      return cid.code === DAG_CBOR ? { b: bytes } : { b: bytes, k: cid.code }
    },
  })
}

async function commitHeld(store: Store, want: CID): Promise<Awaited<ReturnType<Store['at']>>> {
  try {
    return await store.at(want)
  } catch (err) {
    if (err instanceof CommitNotFoundError) throw new ServeError('not-found', `this peer does not hold commit ${want}`)
    throw err
  }
}

/**
 * What commit `want` adds to a holder of tree `have`, as sync reply messages: the commit block,
 * then each new block, as a delta against the block it replaces where there is one.
 */
export async function* newBlockMessages(store: Store, have: CID | null, want: CID): AsyncGenerator<Message> {
  const target = await commitHeld(store, want)
  yield { b: await store.tree.blockBytes(want) }
  // A reader with nothing takes every block: no diff to walk, no node to decode or cache.
  if (have === null) return yield* dagMessages(store, [target.root])
  try {
    for await (const block of store.tree.newBlocks(have ?? store.tree.emptyRoot, target.root)) {
      if (block.base !== undefined && block.offsets !== undefined) {
        const ops = encodeDelta(block.base.bytes, block.base.offsets, block.bytes, block.offsets)
        // A node that shares little with its base (a new subtree beside an old one) goes whole:
        // the delta would be larger, and the reader would rebuild it for nothing.
        const digest = block.base.cid.multihash.digest
        if (deltaSize(ops) + digest.length < block.bytes.length) {
          yield { d: digest, o: ops }
          continue
        }
      }
      yield block.cid.code === DAG_CBOR ? { b: block.bytes } : { b: block.bytes, k: block.cid.code }
    }
  } catch (err) {
    // This peer lacks the reader's old tree (or part of the new one): the reader takes what it
    // was sent and fetches the rest elsewhere.
    if (err instanceof BlockNotFoundError) throw new ServeError('incomplete', `this peer lacks block ${err.cid}`)
    throw err
  }
}

/**
 * Asks `peer` for what `request.want` adds to `request.have` (or, with a frontier, for the DAGs
 * below it), rebuilding deltas from the blocks of the local store. A peer whose first block is
 * not the commit asked for fails the fetch with HashMismatchError; a reply past `into`'s limits
 * fails with ReceiveLimitError, and the stream is closed; one that sends nothing for `idleMs`
 * fails with SyncStalledError (however long it takes, a reply that keeps sending is not cut).
 * Blocks received before a failure stay in `into`, so a caller can go on elsewhere. Asks for no
 * more than `into`'s limits leave room for; true if the reply stopped there (ask again).
 */
export async function fetchNewBlocks(
  libp2p: Libp2p,
  peer: PeerId,
  request: SyncRequest,
  local: Store,
  into: ReceivedBlocks,
  idleMs: number,
): Promise<boolean> {
  const idle = idleTimeout(idleMs)
  const { store: s, have: h, want: w, frontier } = request
  const l = [Math.max(1, into.limits.maxBytes - into.bytes), into.limits.maxBlocks]
  let truncated = false
  try {
    const replies = call(
      libp2p,
      peer,
      SYNC_PROTOCOL,
      frontier === undefined ? { s, h, w, l } : { s, h, w, f: frontier, l },
      {
        signal: idle.signal,
        onBytes: (n) => {
          idle.touch()
          into.addWireBytes(n)
        },
      },
    )
    // The commit asked for comes first; a peer that sends anything else is caught at once. A
    // later round's blocks are reached through the blocks `into` took before.
    const blocks = async function* (): AsyncGenerator<Message> {
      for await (const message of replies) {
        if (message.t === undefined) yield message
        else truncated = true
      }
    }
    await receiveMessages(blocks(), local, into, frontier === undefined ? w : undefined)
    return truncated
  } catch (err) {
    throw idle.signal.aborted ? idle.signal.reason : err
  } finally {
    idle.clear()
  }
}
