// A key range (gt/gte/lt/lte/prefix) as its tightest lower and upper bound, and the tests a walk
// over a range makes against them. Shared by the range reads and counting.
import { compareBytes, prefixEnd, toKey } from './keys.ts'
import { lowerBound, upperBound } from './search.ts'
import type { Range } from './types.ts'

export interface Bound {
  readonly key: Uint8Array
  readonly inclusive: boolean
}

/** Whether `key` is within `upper` (null: no upper bound). */
export function below(key: Uint8Array, upper: Bound | null): boolean {
  if (upper === null) return true
  const c = compareBytes(key, upper.key)
  return c < 0 || (c === 0 && upper.inclusive)
}

/** Whether `key` is within `lower` (null: no lower bound). */
export function above(key: Uint8Array, lower: Bound | null): boolean {
  if (lower === null) return true
  const c = compareBytes(key, lower.key)
  return c > 0 || (c === 0 && lower.inclusive)
}

/** The index of the first of a node's entries within `lower`. */
export function firstInRange(entries: readonly { key: Uint8Array }[], lower: Bound | null): number {
  if (lower === null) return 0
  return lower.inclusive ? lowerBound(entries, lower.key) : upperBound(entries, lower.key)
}

export function bounds(range: Range): { lower: Bound | null; upper: Bound | null } {
  let lower: Bound | null = null
  let upper: Bound | null = null
  const tighterLower = (b: Bound): void => {
    const c = lower === null ? 1 : compareBytes(b.key, lower.key)
    if (c > 0 || (c === 0 && !b.inclusive)) lower = b
  }
  const tighterUpper = (b: Bound): void => {
    const c = upper === null ? -1 : compareBytes(b.key, upper.key)
    if (c < 0 || (c === 0 && !b.inclusive)) upper = b
  }
  if (range.gt !== undefined) tighterLower({ key: toKey(range.gt), inclusive: false })
  if (range.gte !== undefined) tighterLower({ key: toKey(range.gte), inclusive: true })
  if (range.lt !== undefined) tighterUpper({ key: toKey(range.lt), inclusive: false })
  if (range.lte !== undefined) tighterUpper({ key: toKey(range.lte), inclusive: true })
  if (range.prefix !== undefined) {
    const prefix = toKey(range.prefix)
    tighterLower({ key: prefix, inclusive: true })
    const end = prefixEnd(prefix)
    if (end !== null) tighterUpper({ key: end, inclusive: false })
  }
  return { lower, upper }
}
