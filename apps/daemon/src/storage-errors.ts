// Telling a failure of the repo's database (LevelDB) from other errors, and saying what to do
// about it. LevelDB's errors come with a code (classic-level's LEVEL_IO_ERROR, LEVEL_CORRUPTION),
// but by the time they reach the API they are often wrapped: in a StoreError's cause, or only
// in the message of a datastore's PutFailedError ("Error: IO error: ..."). Node's own writes (the
// repo's lock and files) fail with ENOSPC.

export interface StorageFailure {
  /** `io`: the disk refused (full, read-only, failing); `corruption`: the database's files are damaged. */
  readonly kind: 'io' | 'corruption'
  /** LevelDB's own words, e.g. "IO error: /repo/data/000005.ldb: No space left on device". */
  readonly message: string
  /** Whether the disk is full (ENOSPC). */
  readonly diskFull: boolean
}

const IO = /IO error: .*/
const CORRUPTION = /Corruption: .*/

/** The LevelDB failure in `err` or its causes, if there is one. */
export function storageFailure(err: unknown): StorageFailure | undefined {
  for (let e = err, depth = 0; e !== null && e !== undefined && depth < 10; e = (e as Error).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    const text = typeof message === 'string' ? message : ''
    if (code === 'ENOSPC') return { kind: 'io', message: text, diskFull: true } // Node's own file writes
    const kind =
      code === 'LEVEL_CORRUPTION' || CORRUPTION.test(text)
        ? 'corruption'
        : code === 'LEVEL_IO_ERROR' || IO.test(text)
          ? 'io'
          : undefined
    if (kind === undefined) continue
    const own = (kind === 'io' ? IO : CORRUPTION).exec(text)?.[0] ?? text
    return { kind, message: own, diskFull: /No space left on device|ENOSPC/.test(own) }
  }
  return undefined
}

/** What to do about a damaged database. */
export const DAMAGED_ADVICE =
  'copy the repo somewhere safe, then restore it from a backup; stores written elsewhere can be followed again from peers'

/** What to do, for a message that already quotes LevelDB's words. */
export function storageAdvice(failure: StorageFailure, dataDir = "the repo's data/ directory"): string {
  if (failure.kind === 'corruption') return `the repo's database is damaged: ${DAMAGED_ADVICE}`
  if (failure.diskFull) return `the disk holding ${dataDir} is full: free space on it`
  return `the repo's database could not read or write its files: check the disk holding ${dataDir}`
}

/** What failed and what to do, in one sentence. */
export function describeStorageFailure(failure: StorageFailure, dataDir?: string): string {
  return `${failure.message}: ${storageAdvice(failure, dataDir)}`
}
