// A LevelDB stand-in for power-loss tests: an in-memory abstract-level database that remembers
// which writes were synced. LevelDB appends every write to one log, and a synced write makes the
// log durable up to and including itself; an unsynced one can be lost when power fails. So here
// a synced write makes itself and every write before it durable, and `powerFail` keeps only
// what was made durable, the worst case a real disk can give.
import { MemoryLevel } from 'memory-level'

type Bytes = Uint8Array
type Op =
  | { readonly type: 'put'; readonly key: Bytes; readonly value: Bytes }
  | { readonly type: 'del'; readonly key: Bytes }

const hex = (bytes: Bytes): string => Buffer.from(bytes).toString('hex')

/** abstract-level's hooks for implementations, which its published types leave out. */
interface ImplementationHooks {
  _open(options: object): Promise<void>
  _put(key: Bytes, value: Bytes, options: object): Promise<void>
  _del(key: Bytes, options: object): Promise<void>
  _batch(operations: readonly Op[], options: object): Promise<void>
}
const HookedMemoryLevel = MemoryLevel as unknown as new (
  options: object,
) => MemoryLevel<Bytes, Bytes> & ImplementationHooks

export class PowerLossLevel extends HookedMemoryLevel {
  /** Every key's durable value, by the key's hex. */
  readonly #durable: Map<string, { key: Bytes; value: Bytes }>
  /** Writes since the last synced one, oldest first. */
  #volatile: Op[] = []
  /** Writes made with `sync: true`, and without. */
  syncedWrites = 0
  unsyncedWrites = 0

  constructor(durable: Map<string, { key: Bytes; value: Bytes }> = new Map()) {
    super({ keyEncoding: 'view', valueEncoding: 'view', storeEncoding: 'view' })
    this.#durable = durable
  }

  /** A database holding what survives a power failure of this one now (open it before use). */
  powerFail(): PowerLossLevel {
    return new PowerLossLevel(new Map(this.#durable))
  }

  override async _open(options: object): Promise<void> {
    await super._open(options)
    const ops = [...this.#durable.values()].map(({ key, value }) => ({ type: 'put' as const, key, value }))
    if (ops.length > 0) await super._batch(ops, {})
  }

  override async _put(key: Bytes, value: Bytes, options: { sync?: boolean }): Promise<void> {
    await super._put(key, value, options)
    this.#log([{ type: 'put', key, value }], options)
  }

  override async _del(key: Bytes, options: { sync?: boolean }): Promise<void> {
    await super._del(key, options)
    this.#log([{ type: 'del', key }], options)
  }

  override async _batch(operations: readonly Op[], options: { sync?: boolean }): Promise<void> {
    await super._batch(operations, options)
    this.#log(operations, options)
  }

  #log(ops: readonly Op[], options: { sync?: boolean }): void {
    // Copies: a caller may reuse its buffers after the write resolves.
    for (const op of ops) {
      this.#volatile.push(
        op.type === 'put'
          ? { type: 'put', key: new Uint8Array(op.key), value: new Uint8Array(op.value) }
          : { type: 'del', key: new Uint8Array(op.key) },
      )
    }
    if (options.sync !== true) {
      this.unsyncedWrites++
      return
    }
    this.syncedWrites++
    for (const op of this.#volatile) {
      if (op.type === 'put') this.#durable.set(hex(op.key), { key: op.key, value: op.value })
      else this.#durable.delete(hex(op.key))
    }
    this.#volatile = []
  }
}
