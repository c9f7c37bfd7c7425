// Taking sync reply messages (a fast-path reply, or a push) into a ReceivedBlocks: whole blocks,
// and deltas rebuilt against blocks this peer's storage holds.

import { commitRoots, decodeCommit, type Store } from '@dagsync/store'
import {
  blockLinks,
  cidKey,
  cidOf,
  collectBytes,
  DAG_CBOR,
  decodedNodeLinks,
  SHA2_256,
  verifyBlock,
} from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { applyDelta } from './delta.ts'
import { ProtocolError, UnheldBaseError } from './errors.ts'
import type { ReceivedBlocks } from './received.ts'
import type { Message } from './rpc.ts'

/**
 * Delta bases are read from storage a batch of messages at a time, in one read per batch, while
 * the next batch arrives: one read after another costs a catch-up of 200 deltas ~40 ms on LevelDB.
 * The messages read ahead are held to a few hundred KiB, so the receive limits still bound memory.
 */
const BATCH = 32
const BATCH_BYTES = 64 * 1024
const LOOKAHEAD_BYTES = 256 * 1024

/** A message, parsed, with its delta's base read from storage. */
type Prepared =
  | { readonly bytes: Uint8Array; readonly codec: number; readonly base?: undefined }
  | { readonly ops: readonly unknown[]; readonly base: HeldBase }

interface HeldBase {
  readonly cid: CID
  readonly bytes: Uint8Array
  /** Held too: storage holds only whole subtrees. */
  readonly links: readonly CID[]
}

/** A batch of messages, prepared up to the first that failed (its error, if any). */
interface PreparedBatch {
  readonly messages: readonly Prepared[]
  readonly error?: unknown
}

/**
 * Takes `messages` into `into`, in order. The first must be the block `first`, if given (else
 * HashMismatchError; without it, every block must be reached through blocks `into` took before);
 * a delta must be built on a block the local store's storage holds (else UnheldBaseError); past
 * `into`'s limits, ReceiveLimitError. If `messages` itself fails, what arrived before is still
 * taken, then its error is thrown.
 */
export async function receiveMessages(
  messages: AsyncIterable<Message> | Iterable<Message>,
  local: Store,
  into: ReceivedBlocks,
  first: CID | undefined,
): Promise<void> {
  const ahead: { prepared: Promise<PreparedBatch>; size: number }[] = []
  let aheadBytes = 0
  let batch: Message[] = []
  let batchBytes = 0
  let expect: CID | undefined = first
  let taking = false
  const launch = (): void => {
    if (batch.length === 0) return
    ahead.push({ prepared: prepareBatch(batch, local), size: batchBytes })
    aheadBytes += batchBytes
    batch = []
    batchBytes = 0
  }
  const takeNext = async (): Promise<void> => {
    const next = ahead.shift()
    if (next === undefined) return
    taking = true
    aheadBytes -= next.size
    const { messages: prepared, error } = await next.prepared
    for (const message of prepared) {
      take(message, local, into, expect)
      expect = undefined
    }
    if (error !== undefined) throw error
    taking = false
  }
  try {
    for await (const message of messages) {
      batch.push(message)
      batchBytes += sizeOf(message)
      if (batch.length >= BATCH || batchBytes >= BATCH_BYTES) launch()
      // One batch's reads overlap the next batch's arrival.
      while (ahead.length > 1 || aheadBytes > LOOKAHEAD_BYTES) await takeNext()
    }
  } catch (err) {
    if (taking) throw err
    launch()
    while (ahead.length > 0) await takeNext()
    throw err
  }
  launch()
  while (ahead.length > 0) await takeNext()
}

/** About what a message holds: its block's bytes, or its delta's literals and a few bytes per op. */
function sizeOf(message: Message): number {
  if (message.b instanceof Uint8Array) return message.b.length
  if (!Array.isArray(message.o)) return 0
  let n = 0
  for (const op of message.o) n += op instanceof Uint8Array ? op.length : 8
  return n
}

/**
 * Parses a batch of messages and reads its deltas' bases from storage, in one read. Never
 * rejects. Bases come from storage, not from the tree: its node cache also holds nodes that a
 * sync walked and then failed to finish, never written, and only storage proves a block is held.
 */
async function prepareBatch(messages: readonly Message[], local: Store): Promise<PreparedBatch> {
  const parsed: ({ bytes: Uint8Array; codec: number } | { ops: readonly unknown[]; base: CID })[] = []
  let error: unknown
  try {
    for (const message of messages) parsed.push(parse(message))
  } catch (err) {
    error = err
  }
  const bases = parsed.flatMap((item) => ('base' in item ? [item.base] : []))
  const read = new Map<string, Uint8Array>()
  try {
    for await (const { cid, bytes } of local.storage.blockstore.getMany(bases))
      read.set(cidKey(cid), await collectBytes(bytes))
  } catch (err) {
    // The first base storage lacks: what comes before it is still taken.
    if ((err as Error).name !== 'NotFoundError') error = err
    else {
      const cid = bases.find((base) => !read.has(cidKey(base)))
      error = new UnheldBaseError(`a delta is built on block ${cid}, which this peer does not hold`, { cause: err })
    }
  }
  const prepared: Prepared[] = []
  for (const item of parsed) {
    if (!('base' in item)) {
      prepared.push(item)
      continue
    }
    const bytes = read.get(cidKey(item.base))
    if (bytes === undefined) break
    const links = await local.tree.nodeLinks(item.base, bytes)
    prepared.push({ ops: item.ops, base: { cid: item.base, bytes, links } })
  }
  return { messages: prepared, error }
}

function parse(message: Message): { bytes: Uint8Array; codec: number } | { ops: readonly unknown[]; base: CID } {
  if (message.b instanceof Uint8Array) {
    if (message.k !== undefined && typeof message.k !== 'number') throw new ProtocolError('a block codec is a number')
    return { bytes: message.b, codec: message.k ?? DAG_CBOR }
  }
  if (message.d instanceof Uint8Array && message.d.length === 32 && Array.isArray(message.o)) {
    return { ops: message.o, base: CID.createV1(DAG_CBOR, Digest.create(SHA2_256, message.d)) }
  }
  throw new ProtocolError('a sync reply is a block {b, k?} or a delta {d, o}')
}

/** Takes one prepared message into `into`; with `expect`, its block must be that one. */
function take(message: Prepared, local: Store, into: ReceivedBlocks, expect: CID | undefined): void {
  into.countMessage()
  const { base } = message
  const bytes = base === undefined ? message.bytes : applyDelta(base.bytes, message.ops)
  if (base !== undefined) for (const link of base.links) into.present.add(cidKey(link))
  const codec = base === undefined ? message.codec : DAG_CBOR
  let cid: CID
  if (expect !== undefined) {
    verifyBlock(expect, bytes)
    cid = expect
  } else {
    cid = cidOf(bytes, codec)
    if (!into.reachable.has(cidKey(cid)))
      throw new ProtocolError(`block ${cid} was sent before any block that links to it: the commit does not reach it`)
  }
  // Checking nodes while the rest is still on the wire takes that work off the end of the sync;
  // a node's links then come from that decoding, not from another pass over its bytes.
  const checked = expect === undefined && codec === DAG_CBOR ? local.tree.precheck(bytes, base?.cid) : undefined
  const links =
    expect !== undefined
      ? // The commit leads to its tree and metadata, not to the history before it.
        commitRoots(decodeCommit(expect, bytes))
      : ((checked === undefined ? undefined : decodedNodeLinks(checked.node)) ?? blockLinks(cid, bytes))
  const key = cidKey(cid)
  for (const link of links) into.reachable.add(cidKey(link))
  into.add(key, cid, bytes, links)
  if (checked !== undefined) into.checked.set(key, checked)
}
