// The errors @dagsync/store throws, each a named class.
import type { CID } from 'multiformats/cid'
import type { Commit } from './commit.ts'

export { InvalidKeyError, InvalidValueError } from '@dagsync/tree'

/** Base class of the errors this package throws itself. */
export class StoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** The store was closed; nothing more can be read or written through it. */
export class StoreClosedError extends StoreError {}

/** Blocks that a store's head needs are missing from its storage. */
export class MissingBlocksError extends StoreError {
  readonly cids: readonly CID[]

  constructor(message: string, cids: readonly CID[]) {
    super(message)
    this.cids = cids
  }
}

/** A block that should be a commit is not a valid one. */
export class InvalidCommitError extends StoreError {
  readonly cid: CID

  constructor(cid: CID, message: string) {
    super(`commit ${cid}: ${message}`)
    this.cid = cid
  }
}

/** The commit asked for (by sequence number or CID) is not in the retained history. */
export class CommitNotFoundError extends StoreError {}

/** A getIn/assocIn/updateIn path is empty or walks into something that is not a map or list. */
export class InvalidPathError extends StoreError {}

/** A write was attempted on a store that only follows another writer. */
export class ReadOnlyStoreError extends StoreError {}

/** A store name is not usable as a key (1-64 of letters, digits, `.`, `_`, `-`). */
export class InvalidStoreNameError extends StoreError {}

/** The storage is locked by another process (only one may open it at a time). */
export class StorageLockedError extends StoreError {}

/**
 * gc stopped before deleting anything: a block it must keep (a head, a retained commit, a
 * block they or a pin reach) is missing or cannot be decoded. `pin verify` says what is wrong.
 */
export class GcAbortedError extends StoreError {
  readonly cid: CID | undefined

  constructor(message: string, cid: CID | undefined, options?: ErrorOptions) {
    super(`gc stopped before deleting anything: ${message}`, options)
    this.cid = cid
  }
}

/**
 * A watch ended before delivering every commit. `lastCommit` is the last commit it delivered an
 * event for (the head when the watch began, if none; null for a store that had no commits then):
 * `store.diff(lastCommit?.cid ?? 0)` gives every change since, as long as that commit is retained.
 */
export class WatchInterruptedError extends StoreError {
  readonly lastCommit: Commit | null

  constructor(message: string, lastCommit: Commit | null, options?: ErrorOptions) {
    super(message, options)
    this.lastCommit = lastCommit
  }
}

/** The watch's consumer fell more than `maxQueue` events behind. */
export class WatchOverflowError extends WatchInterruptedError {}

/**
 * A commit changed more keys than one event may list (`maxChanges`): listing them would hold
 * them all in memory, and take as long as reading them all. `commit` is that commit.
 */
export class WatchTooLargeError extends WatchInterruptedError {
  readonly commit: Commit

  constructor(message: string, lastCommit: Commit | null, commit: Commit) {
    super(message, lastCommit)
    this.commit = commit
  }
}

/** The changes of a commit could not be worked out (a block could not be read: see `cause`). */
export class WatchFailedError extends WatchInterruptedError {}
