// Remote writes: `/dagsync/write/2.0.0`. A reader on the writer's allow-list for a store sends
// a batch of writes; the writer applies them as one transaction and answers with the commit.
//
//   request  {s: store id, ops: [op...], m?: commit metadata}
//            op: {o: 'put', k, v} | {o: 'del', k} | {o: 'put-in', k, p: [segment...], v} | {o: 'bput', k, b: bytes}
//   reply    {c: commit CID or null, q: seq, a: the signed announcement of that head}, then {n: 1}
//            {e: 'not-writer' | 'unauthorized' | 'invalid', m}
import type { Store } from '@dagsync/store'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Announcement } from './announcement.ts'
import { ProtocolError } from './errors.ts'
import { type Message, ServeError } from './rpc.ts'

export const WRITE_PROTOCOL = '/dagsync/write/2.0.0'

/** The most ops one remote write may carry (its message is also held to 2 MiB). */
export const MAX_REMOTE_OPS = 10_000

export type RemoteOp =
  | { readonly o: 'put'; readonly k: string | Uint8Array; readonly v: unknown }
  | { readonly o: 'del'; readonly k: string | Uint8Array }
  | {
      readonly o: 'put-in'
      readonly k: string | Uint8Array
      readonly p: readonly (string | number)[]
      readonly v: unknown
    }
  | { readonly o: 'bput'; readonly k: string | Uint8Array; readonly b: Uint8Array }

function parseOps(ops: unknown): RemoteOp[] {
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_REMOTE_OPS) {
    throw new ProtocolError(`a remote write carries 1 to ${MAX_REMOTE_OPS} ops`)
  }
  return ops.map((op, i) => {
    const { o, k } = (op ?? {}) as Record<string, unknown>
    if (typeof k !== 'string' && !(k instanceof Uint8Array)) throw new ProtocolError(`op ${i} has no key`)
    if (o === 'put' && 'v' in op) return op as RemoteOp
    if (o === 'del') return op as RemoteOp
    if (
      o === 'put-in' &&
      Array.isArray(op.p) &&
      op.p.every((s: unknown) => typeof s === 'string' || Number.isInteger(s)) &&
      'v' in op
    ) {
      return op as RemoteOp
    }
    if (o === 'bput' && op.b instanceof Uint8Array) return op as RemoteOp
    throw new ProtocolError(`op ${i} is not one of put, del, put-in, bput`)
  })
}

export interface WritableStore {
  readonly store: Store
  mayWrite(peer: PeerId): boolean
  /** The signed announcement of the current head: the writer's answer carries it, so the reader moves only on what the store key signed. */
  announcementOfHead(): Promise<Announcement | null>
}

/** Applies remote writes to the stores this node writes, for peers on each store's allow-list. */
export function writeHandler(writableFor: (id: string) => WritableStore | undefined) {
  return async function* handle(message: Message, connection: Connection): AsyncGenerator<Message> {
    const { s, ops, m } = message
    if (typeof s !== 'string') throw new ProtocolError('a remote write names its store: {s, ops}')
    const target = writableFor(s)
    if (target === undefined) throw new ServeError('not-writer', `this peer does not write store ${s}`)
    if (!target.mayWrite(connection.remotePeer)) {
      throw new ServeError('unauthorized', `peer ${connection.remotePeer} may not write store ${s}`)
    }
    const parsed = parseOps(ops)
    const meta = {
      ...(m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {}),
      by: connection.remotePeer.toString(),
    }
    let commit: Awaited<ReturnType<Store['transact']>>['commit']
    try {
      ;({ commit } = await target.store.transact(
        async (tx) => {
          for (const op of parsed) {
            if (op.o === 'put') await tx.assoc(op.k, op.v)
            else if (op.o === 'del') await tx.dissoc(op.k)
            else if (op.o === 'put-in') await tx.assocIn([op.k, ...op.p], op.v)
            else await tx.bassoc(op.k, op.b)
          }
        },
        { meta },
      ))
    } catch (err) {
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
