// From the libraries' types to the API's plain data, and the libraries' errors to ApiErrors.
import type { Commit, KeyInfo } from '@dagsync/store'
import { CID } from 'multiformats/cid'
import { ApiError, type CommitInfo, type KeyInfoData } from './api.ts'
import { storageAdvice, storageFailure } from './storage-errors.ts'

export function commitInfo(commit: Commit): CommitInfo {
  return {
    cid: commit.cid,
    seq: commit.seq,
    time: commit.time,
    tree: commit.tree,
    prev: commit.prev,
    ...(commit.meta === undefined ? {} : { meta: commit.meta }),
  }
}

export function keyInfoData(info: KeyInfo): KeyInfoData {
  return { key: info.key, type: info.type, lastWrite: info.lastWrite.getTime(), size: info.size }
}

/** A CID argument, or a usage error that says what was wrong with it. */
export function parseCid(text: string, what = 'CID'): CID {
  try {
    return CID.parse(text)
  } catch (err) {
    throw new ApiError('bad-request', `"${text}" is not a valid ${what}: ${(err as Error).message}`)
  }
}

const CODES: Record<string, ApiError['code']> = {
  // @dagsync/tree and @dagsync/store
  InvalidKeyError: 'bad-request',
  InvalidValueError: 'bad-request',
  InvalidPathError: 'bad-request',
  InvalidStoreNameError: 'bad-request',
  InvalidOpError: 'bad-request',
  BulkTooLargeError: 'bad-request',
  CommitNotFoundError: 'not-found',
  BlockNotFoundError: 'not-found',
  MissingBlocksError: 'not-found',
  ReadOnlyStoreError: 'conflict',
  StoreClosedError: 'unavailable',
  StorageLockedError: 'unavailable',
  HashMismatchError: 'bad-request',
  // @dagsync/peer
  InvalidStoreIdError: 'bad-request',
  NotAvailableOfflineError: 'unavailable',
  SyncFailedError: 'unavailable',
  UnauthorizedError: 'unauthorized',
  RemoteWriteError: 'unavailable',
}

/** Any error as an ApiError: the libraries' named errors keep their message and get a code. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const error = err instanceof Error ? err : new Error(String(err))
  // The repo's database failed: say so, and what to do, rather than pass LevelDB's words on alone.
  const failure = storageFailure(error)
  if (failure !== undefined)
    return new ApiError(
      failure.kind === 'io' ? 'unavailable' : 'internal',
      `${error.message} (${storageAdvice(failure)})`,
      {
        cause: error,
      },
    )
  if (error.name === 'InvalidBlockError' || error.name.endsWith('NodeError') || error.name === 'MalformedValueError')
    return new ApiError('internal', `corrupt data in the repo: ${error.message}`, { cause: error })
  // A bulk write's errors say which op they are about.
  const index = (error as { index?: unknown }).index
  return new ApiError(CODES[error.name] ?? 'internal', error.message, {
    cause: error,
    ...(Number.isSafeInteger(index) ? { index: index as number } : {}),
  })
}
