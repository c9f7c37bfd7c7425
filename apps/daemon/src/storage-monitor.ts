// Watching whether the repo's database still takes writes. When the disk fills, writes fail; most
// failures end once space is freed, but one during a LevelDB compaction sticks: the database
// refuses every write until it is reopened, freed space or not. So the monitor writes a small
// probe now and then (and at once after a write failed): a probe that fails while the disk is full
// makes the daemon degraded (it still serves reads); one that fails while the disk has room means
// the database will not recover while open, and `onStuck` is told (the daemon exits, saying why,
// and a restart reopens the database).
import { statfs } from 'node:fs/promises'
import { Key } from 'interface-datastore'
import type { Logger } from 'pino'
import { describeStorageFailure, type StorageFailure, storageFailure } from './storage-errors.ts'

const PROBE = new Key('/dagsync/storage-probe')

export interface StorageMonitorInit {
  /** What the probe writes to. */
  readonly datastore: { put(key: Key, value: Uint8Array): Promise<unknown> }
  /** The database's directory (for its disk's free space, and for messages). */
  readonly dataDir: string
  readonly log: Logger
  /** How often to probe while writes work. @default 10_000 */
  readonly intervalMs?: number
  /** How often to probe while they fail. @default 1_000 */
  readonly failingIntervalMs?: number
  /**
   * Free bytes on the disk above which a failed write is not for lack of space. LevelDB needs room
   * for a table as large as its write buffer (16 MiB) and its compaction. @default 64 MiB
   */
  readonly roomBytes?: number
  /** Called once, with a message that says what to do, when the database fails with room on the disk. */
  readonly onStuck: (message: string) => void
}

export type StorageState =
  | { readonly status: 'ok' }
  | { readonly status: 'degraded'; readonly problem: string }
  | { readonly status: 'stuck'; readonly problem: string }

export class StorageMonitor {
  readonly #init: StorageMonitorInit
  #state: StorageState = { status: 'ok' }
  #timer: ReturnType<typeof setTimeout> | undefined
  #checking: Promise<void> | undefined
  #stopped = false

  constructor(init: StorageMonitorInit) {
    this.#init = init
    this.#schedule()
  }

  get state(): StorageState {
    return this.#state
  }

  /** Tells the monitor about an error seen elsewhere: a storage failure starts a check now. */
  noteError(err: unknown): void {
    if (storageFailure(err) !== undefined) void this.check()
  }

  /** Probes the database now (or joins the probe already running). */
  check(): Promise<void> {
    this.#checking ??= this.#probe().finally(() => {
      this.#checking = undefined
      this.#schedule()
    })
    return this.#checking
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    clearTimeout(this.#timer)
    if (this.#stopped || this.#state.status === 'stuck') return
    const ms = this.#state.status === 'ok' ? (this.#init.intervalMs ?? 10_000) : (this.#init.failingIntervalMs ?? 1_000)
    this.#timer = setTimeout(() => void this.check(), ms)
    this.#timer.unref()
  }

  async #probe(): Promise<void> {
    const { log, dataDir } = this.#init
    if (this.#stopped || this.#state.status === 'stuck') return
    let failure: StorageFailure | undefined
    try {
      await this.#init.datastore.put(PROBE, new TextEncoder().encode(String(Date.now())))
    } catch (err) {
      failure = storageFailure(err) ?? { kind: 'io', message: (err as Error).message, diskFull: false }
    }
    if (failure === undefined) {
      if (this.#state.status !== 'ok') log.info({ dataDir }, 'the repo takes writes again')
      this.#state = { status: 'ok' }
      return
    }
    const free = await freeBytes(dataDir)
    if (free === undefined || free < (this.#init.roomBytes ?? 64 * 1024 * 1024)) {
      // Out of space (or no way to tell): writes may work again once space is freed.
      const what =
        free === undefined
          ? describeStorageFailure(failure, dataDir)
          : `${describeStorageFailure({ ...failure, diskFull: true }, dataDir)} (${formatMiB(free)} free)`
      const problem = `${what}; the daemon serves reads meanwhile`
      if (this.#state.status !== 'degraded') log.error({ dataDir, free }, problem)
      this.#state = { status: 'degraded', problem }
      return
    }
    const problem =
      `the repo's database refuses writes (${failure.message}) although the disk has room now ` +
      `(${formatMiB(free)} free): it does not recover while open. ` +
      'Start the daemon again to reopen it; acknowledged writes are safe.'
    this.#state = { status: 'stuck', problem }
    log.fatal({ dataDir, free }, problem)
    this.#init.onStuck(problem)
  }
}

async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const stats = await statfs(path)
    return stats.bavail * stats.bsize
  } catch {
    return undefined // no statfs here: whether the disk is full cannot be told
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
