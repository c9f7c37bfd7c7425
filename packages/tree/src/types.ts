// The types of the tree's public operations: what they take (ops, entries to build from, key
// ranges) and what they give back (entries, changes between two roots).
import type { KeyInput } from './keys.ts'
import type { StoredValue } from './node.ts'

/** Metadata kept beside a value in its entry: a small plain object, always inline. */
export type Meta = Record<string, unknown>

export type Op =
  | {
      readonly type: 'put'
      readonly key: KeyInput
      readonly value: unknown
      readonly meta?: Meta
      readonly keepIf?: KeepIf
    }
  /** A put of a value whose blocks are already written, as from prepareByteStream. */
  | {
      readonly type: 'put'
      readonly key: KeyInput
      readonly stored: StoredValue
      readonly meta?: Meta
      /**
       * The metadata as encodeMeta encodes it, instead of `meta`: a caller that stamps many
       * entries alike (a store's write time) encodes each kind once.
       */
      readonly encodedMeta?: Uint8Array
      readonly keepIf?: KeepIf
    }
  | { readonly type: 'delete'; readonly key: KeyInput }

/**
 * For a put over a key that already holds the very same value: called with that entry's
 * metadata, and if it returns true the entry is left as it is, metadata included (the put
 * changes nothing). Lets a caller that stamps metadata (a write time) keep an equal write a no-op.
 */
export type KeepIf = (meta: Meta | undefined) => boolean

/** An entry as stored: its value is not read. */
export interface StoredEntry {
  readonly key: Uint8Array
  readonly stored: StoredValue
  readonly meta: Meta | undefined
}

/** An entry to build a tree from. */
export interface EntryInput {
  readonly key: KeyInput
  readonly value: unknown
  readonly meta?: Meta
}

export interface ValueEntry {
  readonly key: Uint8Array
  readonly value: unknown
  readonly meta: Meta | undefined
}

export interface Range {
  gt?: KeyInput
  gte?: KeyInput
  lt?: KeyInput
  lte?: KeyInput
  /** Only keys that start with these bytes. Combines with the bounds above. */
  prefix?: KeyInput
  /** Descending key order. @default false */
  reverse?: boolean
  /** Stop after this many entries. */
  limit?: number
}

/** One changed key between two roots, in key order. `before` is absent for an added key, `after` for a deleted one. */
export interface Change {
  readonly key: Uint8Array
  readonly before?: ValueEntry
  readonly after?: ValueEntry
}

/** A change as stored, without reading values. */
export interface StoredChange {
  readonly key: Uint8Array
  readonly before?: StoredEntry
  readonly after?: StoredEntry
}
