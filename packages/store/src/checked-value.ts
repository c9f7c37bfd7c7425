// A put's value as a bulk write's check encoded it (see CheckedOps in ops.ts), and the key of
// the Transaction method that writes it: a symbol kept off the package's exports, as only
// CheckedOps may call it (the encoding it passes is written as it is, unchecked).
import type { CID } from 'multiformats/cid'

/** A put's value as its check encoded it, and the CIDs it links to: what the write stores. */
export interface CheckedValue {
  readonly encoding: Uint8Array
  readonly links: readonly CID[]
}

export const ASSOC_CHECKED = Symbol('assoc a checked value')
