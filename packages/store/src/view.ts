// The read API over one commit: what the live store, a snapshot and a past version all offer.
import {
  collectBytes,
  type KeyInput,
  type MerkleSearchTree,
  type Meta,
  type Range,
  type StoredEntry,
  type StoredValue,
} from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { Commit } from './commit.ts'
import { InvalidPathError } from './errors.ts'
import { getPath, type Segment } from './path.ts'

/** A key as the store gives it back: a string, or bytes if it was written as bytes. */
export type StoreKey = string | Uint8Array

/** What a store knows about a key without reading its value. */
export interface KeyInfo {
  readonly key: StoreKey
  /** 'binary' for values written with bassoc, 'value' for everything else. */
  readonly type: 'value' | 'binary'
  /** When the key was last written (its commit's time). */
  readonly lastWrite: Date
  /** Bytes: a binary value's length, or the length of a value's DAG-CBOR encoding. */
  readonly size: number
}

export interface KeyEntry extends KeyInfo {
  readonly value: unknown
}

/** A key's value at two versions; `before` absent for an added key, `after` for a removed one. */
export interface KeyChange {
  readonly key: StoreKey
  readonly before?: unknown
  readonly after?: unknown
  readonly beforeInfo?: KeyInfo
  readonly afterInfo?: KeyInfo
}

/** A byte-string value, to stream or read whole. */
export interface BinaryValue {
  readonly size: number
  /** The bytes, chunk by chunk (values over 1 MiB are never held whole). */
  stream(): AsyncIterable<Uint8Array>
  bytes(): Promise<Uint8Array>
}

export type KeyRange = Range

/** Metadata as stored in each tree entry: `{t: 'v' | 'b', w: ms, s: size, k?: 1 for byte keys}`. */
export interface EntryMeta extends Meta {
  t: 'v' | 'b'
  w: number
  s: number
  k?: 1
}

// A key's leading U+FEFF is part of the key, not a byte-order mark.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true })

export function storeKey(key: Uint8Array, meta: Meta | undefined): StoreKey {
  return (meta as EntryMeta | undefined)?.k === 1 ? key : utf8.decode(key)
}

export function keyInfo(entry: StoredEntry): KeyInfo {
  const meta = entry.meta as EntryMeta | undefined
  return {
    key: storeKey(entry.key, meta),
    type: meta?.t === 'b' ? 'binary' : 'value',
    lastWrite: new Date(meta?.w ?? 0),
    size: meta?.s ?? 0,
  }
}

/** The read-only operations every version of a store offers. */
export interface ReadApi {
  get(key: KeyInput): Promise<unknown>
  getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown>
  exists(key: KeyInput): Promise<boolean>
  getMeta(key: KeyInput): Promise<KeyInfo | undefined>
  bget(key: KeyInput): Promise<BinaryValue | undefined>
}

/**
 * An immutable version of a store: the state at one commit, with the whole read API. It stays
 * readable for as long as its blocks are kept (see gc).
 */
export class StoreView implements ReadApi {
  /** The commit this version is, or null for a store with no commits yet. */
  readonly commit: Commit | null
  readonly #tree: MerkleSearchTree

  constructor(tree: MerkleSearchTree, commit: Commit | null) {
    this.#tree = tree
    this.commit = commit
  }

  /** The sequence number of this version's commit (0 before the first commit). */
  get seq(): number {
    return this.commit?.seq ?? 0
  }

  /** The root of this version's tree. */
  get root(): CID {
    return this.commit?.tree ?? this.#tree.emptyRoot
  }

  get(key: KeyInput): Promise<unknown> {
    return this.#tree.get(this.root, key)
  }

  async getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown> {
    if (path.length === 0) throw new InvalidPathError('a path starts with a key')
    const [key, ...rest] = path
    return getPath(await this.get(key), rest)
  }

  async exists(key: KeyInput): Promise<boolean> {
    return this.#tree.has(this.root, key)
  }

  async getMeta(key: KeyInput): Promise<KeyInfo | undefined> {
    const entry = await this.#tree.getEntry(this.root, key)
    return entry === undefined ? undefined : keyInfo(entry)
  }

  async bget(key: KeyInput): Promise<BinaryValue | undefined> {
    const entry = await this.#tree.getEntry(this.root, key)
    return entry === undefined ? undefined : binaryValue(this.#tree, entry.stored, keyInfo(entry).size)
  }

  /** Keys in order (or reverse), each with its metadata; values are not read. */
  async *keys(range: KeyRange = {}): AsyncGenerator<KeyInfo> {
    for await (const entry of this.#tree.keys(this.root, range)) yield keyInfo(entry)
  }

  /** Keys in order with their values and metadata. */
  async *entries(range: KeyRange = {}): AsyncGenerator<KeyEntry> {
    for await (const entry of this.#tree.keys(this.root, range)) {
      yield { ...keyInfo(entry), value: await this.#tree.readValue(entry.stored) }
    }
  }

  /** Number of keys (in a range): visits every node in it. */
  async count(range: Omit<KeyRange, 'reverse' | 'limit'> = {}): Promise<number> {
    return this.#tree.count(this.root, range)
  }

  /** The keys that differ from this version to `other`, in key order. */
  async *diff(other: StoreView): AsyncGenerator<KeyChange> {
    yield* diffRoots(this.#tree, this.root, other.root)
  }
}

export function binaryValue(tree: MerkleSearchTree, stored: StoredValue, size: number): BinaryValue {
  return {
    size,
    stream: () => tree.readBytes(stored),
    bytes: () => collectBytes(tree.readBytes(stored)),
  }
}

export async function* diffRoots(tree: MerkleSearchTree, from: CID, to: CID): AsyncGenerator<KeyChange> {
  for await (const change of tree.diffEntries(from, to)) {
    const meta = change.after?.meta ?? change.before?.meta
    const out: { -readonly [K in keyof KeyChange]: KeyChange[K] } = { key: storeKey(change.key, meta) }
    if (change.before !== undefined) {
      out.before = await tree.readValue(change.before.stored)
      out.beforeInfo = keyInfo(change.before)
    }
    if (change.after !== undefined) {
      out.after = await tree.readValue(change.after.stored)
      out.afterInfo = keyInfo(change.after)
    }
    yield out
  }
}
