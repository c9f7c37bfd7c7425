// Preconditions: what a write was based on, checked in the write's own transaction, so a write
// made from an old read fails instead of overwriting a newer value (an offline page's write
// arriving after someone else's, for instance).
import type { KeyInput } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import { equals } from 'multiformats/bytes'
import type { CID } from 'multiformats/cid'
import { StoreError } from './errors.ts'
import type { Transaction } from './transaction.ts'

/**
 * What a write was based on: a key's value when it was read (`undefined`: the key was absent),
 * or the commit that was the head.
 */
export type Precondition = { readonly key: KeyInput; readonly value: unknown } | { readonly commit: CID }

/** A write's precondition no longer held when its turn came: nothing was written. */
export class PreconditionFailedError extends StoreError {}

/** Fails with PreconditionFailedError unless `precondition` holds in `tx`'s state. */
export async function checkPrecondition(tx: Transaction, precondition: Precondition): Promise<void> {
  if ('commit' in precondition) {
    const head = tx.base.commit
    if (head === null || !head.cid.equals(precondition.commit))
      throw new PreconditionFailedError(
        `the write was based on commit ${precondition.commit}; the head is now ${head === null ? 'none' : `${head.cid} (#${head.seq})`}`,
      )
    return
  }
  const { key, value } = precondition
  const now = await tx.get(key)
  const same =
    value === undefined || now === undefined ? value === now : equals(dagCbor.encode(value), dagCbor.encode(now))
  if (!same)
    throw new PreconditionFailedError(
      `${typeof key === 'string' ? `"${key}"` : 'the key'} changed since the write was based on it (${now === undefined ? 'it is absent now' : 'it has another value now'})`,
    )
}
