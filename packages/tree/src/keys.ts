// Keys: bytes, or strings taken as UTF-8, within MAX_KEY_BYTES, in unsigned bytewise order.
import { InvalidKeyError } from './errors.ts'
import { MAX_KEY_BYTES } from './limits.ts'

/** A key as callers give it: bytes, or a string taken as its UTF-8 bytes. */
export type KeyInput = Uint8Array | string

const encoder = new TextEncoder()

/** Unsigned bytewise order, the order of keys in the tree. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i]
  }
  return a.length - b.length
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

/** UTF-8 bytes of a string, without TextEncoder's per-call cost for the common all-ASCII key. */
function utf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x80) return nonAscii(s)
    out[i] = c
  }
  return out
}

function nonAscii(s: string): Uint8Array {
  // TextEncoder turns a lone surrogate into U+FFFD, which would make "a\ud800" the key "a\ufffd".
  if (!s.isWellFormed()) {
    throw new InvalidKeyError(`key ${JSON.stringify(s.slice(0, 64))} is not well-formed Unicode (a lone surrogate)`)
  }
  return encoder.encode(s)
}

/** Converts a caller's key to bytes and enforces the key length limit. */
export function toKey(key: KeyInput): Uint8Array {
  const bytes = typeof key === 'string' ? utf8(key) : key
  if (!(bytes instanceof Uint8Array)) throw new InvalidKeyError('a key must be a string or a Uint8Array')
  if (bytes.length > MAX_KEY_BYTES) {
    throw new InvalidKeyError(`key is ${bytes.length} bytes, the limit is ${MAX_KEY_BYTES}`)
  }
  return bytes
}

/** The least key greater than every key that starts with `prefix`, or null if there is none (all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const end = prefix.slice(0, i + 1)
      end[i]++
      return end
    }
  }
  return null
}
