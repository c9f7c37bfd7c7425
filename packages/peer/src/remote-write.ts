// Remote writes: `/dagsync/write/3.0.0`. A reader on the writer's allow-list for a store sends
// a list of ops (`WriteOp`, the store's bulk-write op: see @dagsync/store's ops.ts); the writer
// applies them as one transaction, held to the same checks and limits as the store's own
// `transact(ops)`, and answers with the commit. A write carries an id: sent again (its answer was
// lost), it is answered with the commit that applied it and not applied twice (applied-writes.ts).
//
//   request  {s: store id, ops: [op...], w?: write id, m?: commit metadata, p?: precondition (precondition-wire.ts)}
//            op: {op: 'put', key, value} | {op: 'put-in', key, path, value} | {op: 'delete', key}
//                | {op: 'put-bytes', key, bytes} | {op: 'put-ref', key, ref: CID}
//   reply    {c: commit CID or null, q: seq, a: the signed announcement of that head}, then {n: 1}
//            {e: 'not-writer' | 'unauthorized' | 'invalid' | 'too-large' | 'precondition-failed', m, i?: the op's index}
import {
  BulkTooLargeError,
  type Commit,
  InvalidOpError,
  PreconditionFailedError,
  type Store,
  type WriteOp,
} from '@dagsync/store'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Announcement } from './announcement.ts'
import { type AppliedWrites, MAX_WRITE_ID_LENGTH } from './applied-writes.ts'
import { ProtocolError } from './errors.ts'
import { preconditionFromWire } from './precondition-wire.ts'
import { type Message, ServeError } from './rpc.ts'

export const WRITE_PROTOCOL = '/dagsync/write/3.0.0'

export interface WritableStore {
  readonly store: Store
  mayWrite(peer: PeerId): boolean
  /** The remote writes it applied, by peer and write id. */
  readonly applied: AppliedWrites
  /** The signed announcement of the current head: the writer's answer carries it, so the reader moves only on what the store key signed. */
  announcementOfHead(): Promise<Announcement | null>
}

/** Applies remote writes to the stores this node writes, for peers on each store's allow-list. */
export function writeHandler(writableFor: (id: string) => WritableStore | undefined) {
  return async function* handle(message: Message, connection: Connection): AsyncGenerator<Message> {
    const { s, ops, w, m, p } = message
    if (typeof s !== 'string') throw new ProtocolError('a remote write names its store: {s, ops}')
    if (!Array.isArray(ops)) throw new ProtocolError('a remote write carries a list of ops: {s, ops}')
    if (w !== undefined && (typeof w !== 'string' || w.length === 0 || w.length > MAX_WRITE_ID_LENGTH))
      throw new ProtocolError(`a remote write's id is a string of 1 to ${MAX_WRITE_ID_LENGTH} characters`)
    const ifMatch = preconditionFromWire(p)
    const target = writableFor(s)
    if (target === undefined) throw new ServeError('not-writer', `this peer does not write store ${s}`)
    if (!target.mayWrite(connection.remotePeer)) {
      throw new ServeError('unauthorized', `peer ${connection.remotePeer} may not write store ${s}`)
    }
    const by = connection.remotePeer.toString()
    const meta = {
      ...(m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {}),
      by,
      ...(w === undefined ? {} : { write: w }),
    }
    // The store checks the ops (shapes, values, limits) as it does its own callers'.
    const apply = async (): Promise<Commit | null> =>
      (await target.store.transact(ops as WriteOp[], { meta, ...(ifMatch === undefined ? {} : { ifMatch }) })).commit
    let commit: Commit | null
    try {
      commit = w === undefined ? await apply() : (await target.applied.once(by, w, apply)).commit
    } catch (err) {
      if (err instanceof BulkTooLargeError) throw new ServeError('too-large', err.message, err.index)
      if (err instanceof InvalidOpError) throw new ServeError('invalid', err.message, err.index)
      if (err instanceof PreconditionFailedError) throw new ServeError('precondition-failed', err.message)
      const name = (err as Error).name
      if (name === 'InvalidValueError' || name === 'InvalidPathError' || name === 'InvalidKeyError') {
        throw new ServeError('invalid', (err as Error).message)
      }
      throw err
    }
    const head = commit ?? target.store.head
    const announcement = await target.announcementOfHead()
    yield { c: head?.cid ?? null, q: head?.seq ?? 0, ...(announcement === null ? {} : { a: announcement.bytes }) }
  }
}
