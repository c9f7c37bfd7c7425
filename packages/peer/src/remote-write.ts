// Remote writes: `/dagsync/write/3.0.0`. A reader on the writer's allow-list for a store sends
// a list of ops (`WriteOp`, the store's bulk-write op: see @dagsync/store's ops.ts); the writer
// applies them as one transaction, held to the same checks and limits as the store's own
// `transact(ops)`, and answers with the commit.
//
//   request  {s: store id, ops: [op...], m?: commit metadata, p?: precondition (precondition-wire.ts)}
//            op: {op: 'put', key, value} | {op: 'put-in', key, path, value} | {op: 'delete', key}
//                | {op: 'put-bytes', key, bytes} | {op: 'put-ref', key, ref: CID}
//   reply    {c: commit CID or null, q: seq, a: the signed announcement of that head}, then {n: 1}
//            {e: 'not-writer' | 'unauthorized' | 'invalid' | 'too-large' | 'precondition-failed', m, i?: the op's index}
import { BulkTooLargeError, InvalidOpError, PreconditionFailedError, type Store, type WriteOp } from '@dagsync/store'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Announcement } from './announcement.ts'
import { ProtocolError } from './errors.ts'
import { preconditionFromWire } from './precondition-wire.ts'
import { type Message, ServeError } from './rpc.ts'

export const WRITE_PROTOCOL = '/dagsync/write/3.0.0'

export interface WritableStore {
  readonly store: Store
  mayWrite(peer: PeerId): boolean
  /** The signed announcement of the current head: the writer's answer carries it, so the reader moves only on what the store key signed. */
  announcementOfHead(): Promise<Announcement | null>
}

/** Applies remote writes to the stores this node writes, for peers on each store's allow-list. */
export function writeHandler(writableFor: (id: string) => WritableStore | undefined) {
  return async function* handle(message: Message, connection: Connection): AsyncGenerator<Message> {
    const { s, ops, m, p } = message
    if (typeof s !== 'string') throw new ProtocolError('a remote write names its store: {s, ops}')
    if (!Array.isArray(ops)) throw new ProtocolError('a remote write carries a list of ops: {s, ops}')
    const ifMatch = preconditionFromWire(p)
    const target = writableFor(s)
    if (target === undefined) throw new ServeError('not-writer', `this peer does not write store ${s}`)
    if (!target.mayWrite(connection.remotePeer)) {
      throw new ServeError('unauthorized', `peer ${connection.remotePeer} may not write store ${s}`)
    }
    const meta = {
      ...(m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {}),
      by: connection.remotePeer.toString(),
    }
    let commit: Awaited<ReturnType<Store['transact']>>['commit']
    try {
      // The store checks the ops (shapes, values, limits) as it does its own callers'.
      ;({ commit } = await target.store.transact(ops as WriteOp[], {
        meta,
        ...(ifMatch === undefined ? {} : { ifMatch }),
      }))
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
