// `dagsync import`'s engine: ops in, one commit per batch out. A batch is sent when it holds
// `batch` ops or its next op would pass the store's byte limit; the next batch is read and
// checked while the previous one commits, and batches commit in order, each whole or not at all.
import { type Api, ApiError, type CommitInfo } from '@dagsync/daemon/client'
import { BulkBudget, BulkTooLargeError, type WriteOp } from '@dagsync/store/ops'

/** Errors that mean the input is bad (exit 2), from reading it or from checking its ops here. */
const INPUT_ERRORS = new Set([
  'LineError',
  'UsageError',
  'InvalidOpError',
  'BulkTooLargeError',
  'InvalidValueError',
  'InvalidKeyError',
])

/** One batch that was committed: its commit (null if it changed nothing), ops, and first and last position. */
export interface ImportedBatch {
  readonly commit: CommitInfo | null
  readonly ops: number
  /** Its first and last line (or entry, for a JSON object), 1-based. */
  readonly from: number
  readonly to: number
}

export interface ImporterInit {
  readonly api: Api
  readonly store: string
  /** The most ops per commit (at most MAX_BULK_OPS). */
  readonly batch: number
  readonly meta?: Record<string, unknown>
  /** How a position is named in messages: `line 12`, `entry 3 ("k")`. */
  readonly where: (position: number) => string
  /** Told after each commit. */
  readonly onCommit?: (batch: ImportedBatch) => void
}

/** The import stopped: `cause` says why, `committed` what was committed before. */
export class ImportFailure extends Error {
  override name = 'ImportFailure'
  readonly committed: readonly ImportedBatch[]
  /** The exit code's kind: `bad-request` for bad input. */
  readonly code: ApiError['code']

  constructor(message: string, code: ApiError['code'], committed: readonly ImportedBatch[], options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.committed = committed
  }
}

export class Importer {
  readonly committed: ImportedBatch[] = []
  readonly #init: ImporterInit
  #ops: WriteOp[] = []
  #positions: number[] = []
  #budget = new BulkBudget()
  /** The batch being committed: settles once it is committed (or has failed). */
  #inFlight: Promise<void> = Promise.resolve()

  constructor(init: ImporterInit) {
    this.#init = init
  }

  /** Adds the op read at `position`; sends the batch when it is full. */
  async add(op: WriteOp, position: number): Promise<void> {
    try {
      this.#budget.add(op, this.#ops.length)
    } catch (err) {
      // A full batch goes out and the op starts the next; an op over the limit on its own is refused.
      if (!(err instanceof BulkTooLargeError) || this.#ops.length === 0) throw this.#gatheringError(err, position)
      await this.#send()
      this.#budget.add(op, 0)
    }
    this.#ops.push(op)
    this.#positions.push(position)
    if (this.#ops.length >= this.#init.batch) await this.#send()
  }

  /** Sends what is left and waits for every commit. */
  async finish(): Promise<void> {
    await this.#send()
    await this.#inFlight
  }

  /**
   * Why the import stopped, with what was and was not committed: waits for the batch in flight,
   * whose own failure, earlier in the input, is the one reported.
   */
  async failure(err: unknown): Promise<ImportFailure> {
    const failure = await this.#inFlight.then(
      () => (err instanceof ImportFailure ? err : this.#gatheringError(err, (err as { line?: number }).line)),
      (inFlight: unknown) => inFlight as ImportFailure,
    )
    const last = this.committed.at(-1)
    const before =
      last === undefined
        ? 'nothing was committed'
        : `committed before it: ${this.committed.length} commit${this.committed.length === 1 ? '' : 's'} of ${this.#init.where(1)} to ${last.to}${last.commit === null ? '' : ` (up to commit ${last.commit.seq})`}`
    return new ImportFailure(`${failure.message}; ${before}`, failure.code, this.committed, { cause: failure })
  }

  async #send(): Promise<void> {
    if (this.#ops.length === 0) return
    const ops = this.#ops
    const positions = this.#positions
    this.#ops = []
    this.#positions = []
    this.#budget = new BulkBudget()
    // One batch in flight at a time: commits stay in input order.
    await this.#inFlight
    this.#inFlight = this.#commit(ops, positions)
    // Its failure is taken by the next send, finish or failure, not here.
    this.#inFlight.catch(() => {})
  }

  async #commit(ops: WriteOp[], positions: number[]): Promise<void> {
    const { api, store, meta } = this.#init
    const from = positions[0] as number
    const to = positions.at(-1) as number
    try {
      const { commit } = await api.transact({ store, ...(meta === undefined ? {} : { meta }) }, ops)
      const batch = { commit, ops: ops.length, from, to }
      this.committed.push(batch)
      this.#init.onCommit?.(batch)
    } catch (err) {
      const index = (err as { index?: unknown }).index
      const at = typeof index === 'number' ? positions[index] : undefined
      const failure = this.#inputError(err, at)
      throw new ImportFailure(
        `${failure.message} (nothing of the batch of ${this.#init.where(from)} to ${to} was committed)`,
        failure.code,
        this.committed,
        { cause: err },
      )
    }
  }

  /** An error about the batch being gathered (none of it sent), at `position` if known. */
  #gatheringError(err: unknown, position: number | undefined): ImportFailure {
    const failure = this.#inputError(err, position)
    const from = this.#positions[0] ?? position
    if (from === undefined) return failure
    return new ImportFailure(
      `${failure.message} (nothing of the batch from ${this.#init.where(from)} on was committed)`,
      failure.code,
      this.committed,
      { cause: err },
    )
  }

  /** An error about the input at `position` (if known), named by its line or entry. */
  #inputError(err: unknown, position: number | undefined): ImportFailure {
    const code: ApiError['code'] =
      err instanceof ApiError || err instanceof ImportFailure
        ? err.code
        : INPUT_ERRORS.has((err as Error).name)
          ? 'bad-request'
          : 'internal'
    // The daemon's own line numbers and op indexes are of the batch, not of the input: replaced.
    const message = ((err as Error).message ?? String(err))
      .replace(/^(line|entry) \d+: /, '')
      .replace(/^ops\[\d+\] ?/, '')
    const where = position === undefined ? '' : `${this.#init.where(position)}${message.startsWith('(') ? ' ' : ': '}`
    return new ImportFailure(`${where}${message}`, code, this.committed, { cause: err })
  }
}
