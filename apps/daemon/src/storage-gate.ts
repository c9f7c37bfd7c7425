// No write to the repo's database after one has failed, until it is reopened. When LevelDB fails
// to append to its log (a full disk), the log keeps a torn record; the writes LevelDB accepts
// after it are appended behind it, and on the next open the torn record can take them with it.
// Measured here: on a 6 MiB tmpfs, a write acknowledged after space was freed was gone after a
// restart, 3 times out of 3. So the first failed write closes the gate for every later one (store
// commits, pins, gc, and everything the node keeps in the datastore), and only reopening the
// database (restarting the daemon) opens it again.
import type { LevelStorage } from '@dagsync/store/level'
import { ApiError } from './api.ts'
import { type StorageFailure, storageAdvice, storageFailure } from './storage-errors.ts'

/** A write refused because an earlier one failed: the database must be reopened first. */
export class StorageFailedError extends ApiError {
  override name = 'StorageFailedError'

  constructor(failure: StorageFailure, dataDir: string) {
    super(
      'unavailable',
      `the repo's database takes no more writes after one failed (${failure.message}): ${storageAdvice(failure, dataDir)}, ` +
        'then start the daemon again (a restart reopens the database; acknowledged writes are safe)',
    )
  }
}

export class StorageGate {
  readonly #dataDir: string
  #failure: StorageFailure | undefined
  readonly #listeners = new Set<(failure: StorageFailure) => void>()

  constructor(dataDir: string) {
    this.#dataDir = dataDir
  }

  /** The failed write that closed the gate, if one did. */
  get failure(): StorageFailure | undefined {
    return this.#failure
  }

  /** Calls `listener` once, when the gate closes. */
  onFailure(listener: (failure: StorageFailure) => void): void {
    this.#listeners.add(listener)
  }

  /** Throws StorageFailedError if a write failed before. */
  check(): void {
    if (this.#failure !== undefined) throw new StorageFailedError(this.#failure, this.#dataDir)
  }

  /** Closes the gate if `err` is a failure of the database (not, say, a bad argument). */
  noteError(err: unknown): void {
    if (this.#failure !== undefined) return
    const failure = storageFailure(err)
    if (failure === undefined) return
    this.#failure = failure
    for (const listener of this.#listeners) listener(failure)
  }

  /** Runs a write through the gate. */
  async write<T>(run: () => Promise<T>): Promise<T> {
    this.check()
    try {
      return await run()
    } catch (err) {
      this.noteError(err)
      throw err
    }
  }

  /** Runs a write that streams its results (putMany, deleteMany) through the gate. */
  async *writeEach<T>(run: () => AsyncIterable<T>): AsyncGenerator<T> {
    this.check()
    try {
      yield* run()
    } catch (err) {
      this.noteError(err)
      throw err
    }
  }
}

type Fn = (...args: unknown[]) => unknown

/**
 * `target` with its write methods going through the gate: those named in `writes` return
 * promises, those in `streams` async iterables, and `batch()` a batch whose `commit` is gated.
 * Every other method is the target's own, bound to it (LevelStorage keeps private fields, which
 * a proxy cannot reach as `this`).
 */
function gated<T extends object>(
  target: T,
  gate: StorageGate,
  kinds: { writes: readonly string[]; streams?: readonly string[]; children?: Record<string, unknown> },
): T {
  // One wrapper per method, made on first use (reads go through here too, often).
  const wrappers = new Map<string, Fn>()
  const wrap = (prop: string, method: Fn): Fn => {
    if (kinds.writes.includes(prop)) return (...args) => gate.write(async () => method.apply(target, args))
    if (kinds.streams?.includes(prop))
      return (...args) => gate.writeEach(() => method.apply(target, args) as AsyncIterable<unknown>)
    if (prop === 'batch' && method.length === 0)
      return () => {
        gate.check()
        return gated(method.apply(target) as { commit: Fn }, gate, { writes: ['commit'] })
      }
    return method.bind(target)
  }
  return new Proxy(target, {
    get(object, prop, receiver) {
      if (typeof prop === 'string' && kinds.children !== undefined && prop in kinds.children)
        return kinds.children[prop]
      const value = Reflect.get(object, prop, receiver)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      let wrapper = wrappers.get(prop)
      if (wrapper === undefined) wrappers.set(prop, (wrapper = wrap(prop, value as Fn)))
      return wrapper
    },
  })
}

/** `storage` with every write through `gate`: store commits, pins, and the blockstore's and datastore's writes. */
export function gateStorage(storage: LevelStorage, gate: StorageGate): LevelStorage {
  const stores = { writes: ['put', 'delete'], streams: ['putMany', 'deleteMany'] }
  return gated(storage, gate, {
    writes: ['commit', 'pin', 'unpin', 'deleteHead', 'deleteBlocks'],
    children: {
      blockstore: gated(storage.blockstore, gate, stores),
      datastore: gated(storage.datastore, gate, stores),
    },
  })
}
