// A remote write's precondition (`ifMatch`) as it travels in `/dagsync/write/3.0.0`'s request:
//   p: {k: key, v: value} | {k: key, a: true} (the key was absent) | {c: commit CID}
import type { Precondition } from '@dagsync/store'
import { CID } from 'multiformats/cid'
import { ProtocolError } from './errors.ts'

export function preconditionToWire(precondition: Precondition): Record<string, unknown> {
  if ('commit' in precondition) return { c: precondition.commit }
  return precondition.value === undefined
    ? { k: precondition.key, a: true }
    : { k: precondition.key, v: precondition.value }
}

export function preconditionFromWire(p: unknown): Precondition | undefined {
  if (p === undefined) return undefined
  if (p === null || typeof p !== 'object')
    throw new ProtocolError('a write precondition is a map: {k, v} | {k, a} | {c}')
  const { k, v, a, c } = p as Record<string, unknown>
  const commit = CID.asCID(c)
  if (commit !== null) return { commit }
  if (typeof k !== 'string' && !(k instanceof Uint8Array))
    throw new ProtocolError('a write precondition names a key (k) or a commit (c)')
  if (a === true) return { key: k, value: undefined }
  if (v === undefined) throw new ProtocolError('a write precondition on a key carries its value (v) or a: true')
  return { key: k, value: v }
}
