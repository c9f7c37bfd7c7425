// What every benchmarked library implements, so the harness runs the same workload on each.

/** The workload's values: `{n: i, name: 'user' + i, tags: ['a', 'b']}`. */
export interface Value {
  n: number
  name: string
  tags: string[]
}

export interface Entry {
  /** `k` + 8 digits, e.g. k00000042 */
  key: string
  value: Value
}

export interface LoadStats {
  /** Blocks (or nodes, or log records) holding the structure after the load. */
  blocks: number
  /** Their total encoded bytes. */
  bytes: number
  /** Levels from the root to the deepest leaf, or null where the structure has none. */
  depth: number | null
}

export interface WriteStats {
  /** Blocks written by the operation that the previous root did not already have. */
  blocks: number
  /** Their total bytes. */
  bytes: number
}

/**
 * One library under test, holding one in-memory store. The harness calls, in order:
 * load, stats, get (W2, many times), batch (W3), diffLastBatch (W5), put (W4, many times),
 * then sameRootForOrders (W6) on fresh stores. It times each call itself.
 */
export interface Subject {
  readonly name: string
  /** W1: load all entries, given sorted by key, in the fastest way the library offers its users. */
  load(entries: Entry[]): Promise<void>
  stats(): Promise<LoadStats>
  /** W2: read one key; must return its value (decoded). */
  get(key: string): Promise<unknown>
  /**
   * W3: write these entries in one batch, producing one new root; report what that wrote. W3 and W4
   * only change keys the load wrote, so an adapter may use its library's update path.
   */
  batch(entries: Entry[]): Promise<WriteStats>
  /** W5: diff the roots before and after the last batch; return the number of changed keys. */
  diffLastBatch(): Promise<number>
  /** W4: write one entry, producing a new root. */
  put(entry: Entry): Promise<void>
  /**
   * W6: build `sorted` and `shuffled` (the same entries) in two fresh stores, inserting one by
   * one in the given order; true when both end with the same root. null for libraries without
   * a root hash.
   */
  sameRootForOrders(sorted: Entry[], shuffled: Entry[]): Promise<boolean | null>
}

export const key = (i: number): string => `k${String(i).padStart(8, '0')}`
export const value = (i: number): Value => ({ n: i, name: `user${i}`, tags: ['a', 'b'] })
