// What the daemon does once a write to its database failed (see storage-gate.ts: no write goes
// through after that until the database is reopened). While the disk is full, the daemon stays up
// and serves reads, degraded. Once the disk has room again, or at once if the failure was not
// for lack of space, it must be restarted to reopen the database: `onStuck` is told, with a
// message that says so (the daemon then stops and exits).
import { statfs } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { StorageFailure } from './storage-errors.ts'
import { describeStorageFailure } from './storage-errors.ts'
import type { StorageGate } from './storage-gate.ts'

export interface StorageMonitorInit {
  readonly gate: StorageGate
  /** The database's directory (for its disk's free space, and for messages). */
  readonly dataDir: string
  readonly log: Logger
  /** How often to look at the disk's free space once a write failed. @default 1_000 */
  readonly intervalMs?: number
  /**
   * Free bytes the disk needs before the database is worth reopening: LevelDB writes its log into
   * a table as large as its write buffer (16 MiB) on open, and compacts. @default 64 MiB
   */
  readonly roomBytes?: number
  /** Called once, with what to do, when the daemon must be restarted. */
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
  #stopped = false

  constructor(init: StorageMonitorInit) {
    this.#init = init
    init.gate.onFailure((failure) => void this.#watch(failure))
  }

  get state(): StorageState {
    return this.#state
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  async #watch(failure: StorageFailure): Promise<void> {
    const { log, dataDir } = this.#init
    const room = this.#init.roomBytes ?? 64 * 1024 * 1024
    if (this.#stopped) return
    const free = await freeBytes(dataDir)
    if (failure.diskFull && (free === undefined || free < room)) {
      const problem =
        `${describeStorageFailure(failure, dataDir)}${free === undefined ? '' : ` (${formatMiB(free)} free of the ${formatMiB(room)} it needs)`}; ` +
        'the daemon serves reads meanwhile, takes no writes, and exits once there is room, to be started again'
      if (this.#state.status !== 'degraded') log.error({ dataDir, free }, problem)
      this.#state = { status: 'degraded', problem }
      this.#timer = setTimeout(() => void this.#watch(failure), this.#init.intervalMs ?? 1_000)
      this.#timer.unref()
      return
    }
    const problem =
      `the repo's database takes no more writes after one failed (${failure.message})` +
      `${failure.diskFull && free !== undefined ? `, and the disk has room again (${formatMiB(free)} free)` : ''}: ` +
      'start the daemon again to reopen it; acknowledged writes are safe'
    this.#state = { status: 'stuck', problem }
    log.fatal({ dataDir, free }, problem)
    this.#init.onStuck(problem)
  }
}

/** The bytes free on the disk holding `path`, or undefined where that cannot be told (no statfs). */
async function freeBytes(path: string): Promise<number | undefined> {
  try {
    const stats = await statfs(path)
    return stats.bavail * stats.bsize
  } catch {
    return undefined
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
