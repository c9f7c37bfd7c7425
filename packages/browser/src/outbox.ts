// The outbox: writes made in any tab, kept in IndexedDB (the storage's datastore) until the
// writer has answered them, so they survive a reload and wait for the writer to be reachable.
// Keys sort in the order the writes were made, which is the order they are sent in.
import { preconditionFromWire, preconditionToWire } from '@dagsync/peer'
import type { Precondition, WriteOp } from '@dagsync/store'
import { decodeCbor } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import { type Datastore, Key } from 'interface-datastore'

const PREFIX = '/dagsync/outbox'

/** A write waiting in the outbox for the writer. */
export interface PendingWrite {
  /** Its place in the outbox: the order writes are sent in. */
  readonly id: string
  readonly store: string
  readonly ops: readonly WriteOp[]
  readonly ifMatch?: Precondition
  /** When it was made, in ms since the epoch. */
  readonly at: number
}

/** How a write from the outbox ended: it is no longer in the outbox. */
export type WriteOutcome =
  | { readonly id: string; readonly store: string; readonly status: 'accepted'; readonly seq: number }
  | {
      readonly id: string
      readonly store: string
      readonly status: 'rejected'
      /** Why, as a code: 'unauthorized', 'precondition-failed', 'invalid-op' or 'failed'. */
      readonly code: string
      readonly reason: string
    }

let counter = 0

export class Outbox {
  readonly #datastore: Datastore

  constructor(datastore: Datastore) {
    this.#datastore = datastore
  }

  /** Keeps a write; `tab` makes its id unique among tabs writing in the same millisecond. */
  async add(
    store: string,
    ops: readonly WriteOp[],
    ifMatch: Precondition | undefined,
    tab: string,
  ): Promise<PendingWrite> {
    const at = Date.now()
    counter += 1
    const id = `${String(at).padStart(15, '0')}-${String(counter).padStart(9, '0')}-${tab}`
    const record = { s: store, ops, at, ...(ifMatch === undefined ? {} : { p: preconditionToWire(ifMatch) }) }
    await this.#datastore.put(new Key(`${PREFIX}/${id}`), dagCbor.encode(record))
    return { id, store, ops, at, ...(ifMatch === undefined ? {} : { ifMatch }) }
  }

  /** The writes waiting, oldest first (of one store, or all). */
  async list(store?: string): Promise<PendingWrite[]> {
    const out: PendingWrite[] = []
    for await (const { key, value } of this.#datastore.query({ prefix: PREFIX })) {
      const { s, ops, at, p } = decodeCbor(value) as { s: string; ops: WriteOp[]; at: number; p?: unknown }
      if (store !== undefined && s !== store) continue
      const ifMatch = preconditionFromWire(p)
      out.push({ id: key.baseNamespace(), store: s, ops, at, ...(ifMatch === undefined ? {} : { ifMatch }) })
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  async remove(id: string): Promise<void> {
    await this.#datastore.delete(new Key(`${PREFIX}/${id}`))
  }
}
