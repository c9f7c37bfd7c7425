// Commits: `{v, tree, prev, seq, time, meta?, bits?}` in DAG-CBOR. Each transaction makes one;
// `prev` links them into the store's history, newest first.
import {
  type Block,
  blockLinks,
  cidOf,
  collectCids,
  DAG_CBOR,
  decodeValidated,
  encodeValue,
  InvalidValueError,
  MAX_BLOCK_BYTES,
  type Meta,
  verifyBlock,
} from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import { InvalidCommitError } from './errors.ts'

export const COMMIT_VERSION = 1

/** The tree's bitsPerLevel when the commit does not say. */
export const DEFAULT_BITS = 4

export interface Commit {
  readonly cid: CID
  /** Format version (1). */
  readonly v: number
  /** Root of the Merkle Search Tree holding the store's keys at this commit. */
  readonly tree: CID
  /** The commit before this one, or null for the first. */
  readonly prev: CID | null
  /** 1 for the first commit, then one more for each. */
  readonly seq: number
  /** When it was made, in milliseconds since the Unix epoch. */
  readonly time: number
  /** What the transaction said about itself (author, message...), if anything. */
  readonly meta?: Meta
  /** The tree's bitsPerLevel, recorded only when it is not the default 4. */
  readonly bits?: number
}

export type CommitFields = Omit<Commit, 'cid' | 'v'>

/**
 * Encodes a commit. Metadata is checked as readers will check it (a map of IPLD values within
 * the value limits, the whole commit within one block): InvalidValueError names what is wrong.
 */
export function encodeCommit(fields: CommitFields): { commit: Commit; block: Block } {
  const { meta } = fields
  if (meta !== undefined && !isMap(meta)) throw new InvalidValueError('commit meta must be a plain object (a map)')
  const body: Record<string, unknown> = {
    v: COMMIT_VERSION,
    tree: fields.tree,
    prev: fields.prev,
    seq: fields.seq,
    time: fields.time,
  }
  if (fields.meta !== undefined) body.meta = fields.meta
  if (fields.bits !== undefined && fields.bits !== DEFAULT_BITS) body.bits = fields.bits
  const bytes = encodeValue(body, 'commit')
  if (bytes.length > MAX_BLOCK_BYTES) {
    throw new InvalidValueError(`commit meta makes the commit ${bytes.length} bytes, the limit is ${MAX_BLOCK_BYTES}`)
  }
  const cid = cidOf(bytes)
  return { commit: { cid, ...(body as Omit<Commit, 'cid'>) }, block: { cid, bytes } }
}

/** Decodes and validates a commit block; `verify` also re-hashes it (for blocks from peers). */
export function decodeCommit(cid: CID, bytes: Uint8Array, verify = false): Commit {
  if (verify) verifyBlock(cid, bytes)
  if (bytes.length > MAX_BLOCK_BYTES) {
    throw new InvalidCommitError(cid, `${bytes.length} bytes, the limit is ${MAX_BLOCK_BYTES}`)
  }
  let data: unknown
  try {
    // Validated as gc's walk reads it, then decoded as values are (keeping a leading U+FEFF).
    if (cid.code === DAG_CBOR) blockLinks(cid, bytes)
    data = cid.code === DAG_CBOR ? decodeValidated(bytes) : undefined
  } catch (err) {
    throw new InvalidCommitError(cid, `not valid DAG-CBOR (${(err as Error).message})`)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new InvalidCommitError(cid, 'not a map')
  const { v, tree, prev, seq, time, meta, bits, ...rest } = data as Record<string, unknown>
  if (Object.keys(rest).length > 0) throw new InvalidCommitError(cid, `unknown fields ${Object.keys(rest).join(', ')}`)
  if (v !== COMMIT_VERSION) throw new InvalidCommitError(cid, `version ${String(v)} is not supported`)
  const treeCid = CID.asCID(tree)
  if (treeCid === null) throw new InvalidCommitError(cid, 'tree must be a CID')
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw new InvalidCommitError(cid, 'seq must be a positive integer')
  const prevCid = prev === null ? null : CID.asCID(prev)
  if (prev !== null && prevCid === null) throw new InvalidCommitError(cid, 'prev must be a CID or null')
  if ((prevCid === null) !== (seq === 1)) throw new InvalidCommitError(cid, 'only the first commit (seq 1) has no prev')
  if (!Number.isSafeInteger(time) || (time as number) < 0)
    throw new InvalidCommitError(cid, 'time must be a non-negative integer')
  // Byte strings pass here as they always have: refusing them now could strand an old store.
  if (
    meta !== undefined &&
    (meta === null || typeof meta !== 'object' || Array.isArray(meta) || CID.asCID(meta) !== null)
  ) {
    throw new InvalidCommitError(cid, 'meta must be a map')
  }
  if (
    bits !== undefined &&
    (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > 8 || bits === DEFAULT_BITS)
  ) {
    throw new InvalidCommitError(cid, 'bits must be an integer from 1 to 8 other than 4')
  }
  const commit: Commit = {
    cid,
    v: COMMIT_VERSION,
    tree: treeCid,
    prev: prevCid,
    seq: seq as number,
    time: time as number,
  }
  return {
    ...commit,
    ...(meta === undefined ? {} : { meta: meta as Meta }),
    ...(bits === undefined ? {} : { bits: bits as number }),
  }
}

/** The commit a block holds, or undefined if it is not a valid commit. */
export function asCommit(cid: CID, bytes: Uint8Array): Commit | undefined {
  if (cid.code !== DAG_CBOR) return undefined
  try {
    return decodeCommit(cid, bytes)
  } catch {
    return undefined
  }
}

function isMap(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

/** The links a commit holds besides `prev`: its tree and any CIDs in its metadata. */
export function commitRoots(commit: Commit): CID[] {
  const roots = [commit.tree]
  if (commit.meta !== undefined) collectCids(commit.meta, roots)
  return roots
}
