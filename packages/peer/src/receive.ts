// Taking sync reply messages (a fast-path reply, or a push) into a ReceivedBlocks: whole blocks,
// and deltas rebuilt against blocks this peer's storage holds.

import { commitRoots, decodeCommit, type Store } from '@dagsync/store'
import { blockLinks, cidKey, cidOf, collectBytes, DAG_CBOR, SHA2_256, verifyBlock } from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { applyDelta } from './delta.ts'
import { ProtocolError, UnheldBaseError } from './errors.ts'
import type { ReceivedBlocks } from './received.ts'
import type { Message } from './rpc.ts'

/**
 * Delta bases are read from storage up to this many messages ahead of the one being taken: one
 * read after another costs a catch-up of 200 deltas ~40 ms on LevelDB, side by side a few. The
 * messages read ahead are held to a few hundred KiB, so the receive limits still bound memory.
 */
const LOOKAHEAD = 16
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

/**
 * Takes `messages` into `into`, in order. The first must be the block `first` (else
 * HashMismatchError); a delta must be built on a block the local store's storage holds (else
 * UnheldBaseError); past `into`'s limits, ReceiveLimitError. If `messages` itself fails, what
 * arrived before is still taken, then its error is thrown.
 */
export async function receiveMessages(
  messages: AsyncIterable<Message> | Iterable<Message>,
  local: Store,
  into: ReceivedBlocks,
  first: CID,
): Promise<void> {
  const ahead: { prepared: Promise<Prepared>; size: number }[] = []
  let aheadBytes = 0
  let expect: CID | undefined = first
  let taking = false
  const takeNext = async (): Promise<void> => {
    const next = ahead.shift()
    if (next === undefined) return
    taking = true
    aheadBytes -= next.size
    take(await next.prepared, local, into, expect)
    expect = undefined
    taking = false
  }
  try {
    for await (const message of messages) {
      const prepared = prepare(message, local)
      // Its failure is thrown when its turn comes, not as an unhandled rejection meanwhile.
      prepared.catch(() => {})
      const size = sizeOf(message)
      ahead.push({ prepared, size })
      aheadBytes += size
      while (ahead.length > LOOKAHEAD || aheadBytes > LOOKAHEAD_BYTES) await takeNext()
    }
  } catch (err) {
    if (taking) throw err
    while (ahead.length > 0) await takeNext()
    throw err
  }
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

/** Parses a message and, for a delta, reads its base from storage. */
async function prepare(message: Message, local: Store): Promise<Prepared> {
  if (message.b instanceof Uint8Array) {
    if (message.k !== undefined && typeof message.k !== 'number') throw new ProtocolError('a block codec is a number')
    return { bytes: message.b, codec: message.k ?? DAG_CBOR }
  }
  if (message.d instanceof Uint8Array && message.d.length === 32 && Array.isArray(message.o)) {
    const cid = CID.createV1(DAG_CBOR, Digest.create(SHA2_256, message.d))
    const bytes = await storedBlock(local, cid)
    return { ops: message.o, base: { cid, bytes, links: await local.tree.nodeLinks(cid) } }
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
  let links: readonly CID[]
  if (expect !== undefined) {
    verifyBlock(expect, bytes)
    cid = expect
    // The commit leads to its tree and metadata, not to the history before it.
    links = commitRoots(decodeCommit(expect, bytes))
  } else {
    cid = cidOf(bytes, codec)
    if (!into.reachable.has(cidKey(cid)))
      throw new ProtocolError(`block ${cid} was sent before any block that links to it: the commit does not reach it`)
    links = blockLinks(cid, bytes)
  }
  const key = cidKey(cid)
  for (const link of links) into.reachable.add(cidKey(link))
  into.add(key, cid, bytes)
  // Checking nodes while the rest is still on the wire takes that work off the end of the sync.
  if (codec === DAG_CBOR) {
    const checked = local.tree.precheck(bytes, base?.cid)
    if (checked !== undefined) into.checked.set(key, checked)
  }
}

/**
 * A delta's base, from storage. Not from the tree: its node cache also holds nodes that a sync
 * walked and then failed to finish, never written, and only storage proves a block is held.
 */
async function storedBlock(local: Store, cid: CID): Promise<Uint8Array> {
  try {
    return await collectBytes(local.storage.blockstore.get(cid))
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') {
      throw new UnheldBaseError(`a delta is built on block ${cid}, which this peer does not hold`, { cause: err })
    }
    throw err
  }
}
