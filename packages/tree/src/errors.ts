// The package's errors, one class per way things fail: InvalidBlockError and its subclasses for
// untrusted blocks that break the format, the others for a caller's input or a missing block.
import type { CID } from 'multiformats/cid'

/** Base class of every error thrown by this package. */
export class TreeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * A block read from a blockstore or received from a peer is not a valid part of a tree.
 * Blocks are untrusted input: every subclass names what is wrong, and `cid` names the block
 * once the loader knows it.
 */
export class InvalidBlockError extends TreeError {
  cid?: CID
}

/** The block is not a canonical tree node: wrong CBOR types, unknown or missing fields, non-minimal encoding. */
export class MalformedNodeError extends InvalidBlockError {}

/** The keys of a node are not in strictly increasing unsigned bytewise order, or a prefix length is wrong. */
export class UnsortedKeysError extends InvalidBlockError {}

/** A key sits at a level other than the one its hash assigns, or a subtree link sits where none may be. */
export class WrongLevelError extends InvalidBlockError {}

/** A node holds more entries than the limit for this fanout. */
export class TooManyEntriesError extends InvalidBlockError {}

/** A block is larger than the 1 MiB block limit. */
export class BlockTooLargeError extends InvalidBlockError {}

/** A key in a node is longer than the 1 KiB key limit. */
export class KeyTooLongError extends InvalidBlockError {}

/** A tree claims more levels than the limit for this fanout. */
export class TreeTooDeepError extends InvalidBlockError {}

/** A value block or chunk index is not valid: not DAG-CBOR, wrong chunk sizes, wrong total size. */
export class MalformedValueError extends InvalidBlockError {}

/** A block's bytes do not hash to its CID. */
export class HashMismatchError extends InvalidBlockError {}

/** A block the tree needs is not in the blockstore. */
export class BlockNotFoundError extends TreeError {
  readonly cid: CID

  constructor(cid: CID, options?: ErrorOptions) {
    super(`block ${cid} is not in the blockstore`, options)
    this.cid = cid
  }
}

/** A key given to a write is not acceptable (too long). Nothing was written. */
export class InvalidKeyError extends TreeError {}

/** A value or metadata given to a write cannot be stored (not in the IPLD data model, or too large). Nothing was written. */
export class InvalidValueError extends TreeError {}

/** A write would make a node exceed the entry or block size limit (only possible with keys chosen to collide). Nothing was written. */
export class NodeOverflowError extends TreeError {}

/** Input to `build` is not sorted by key or repeats a key. */
export class UnsortedInputError extends TreeError {}
