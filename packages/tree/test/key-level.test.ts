// A key's level is the leading zero bits of its sha2-256: short keys are hashed by the
// one-block JavaScript SHA-256, longer ones by the general hasher; both against OpenSSL.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { keyLevel } from '../src/index.ts'
import { ONE_BLOCK_BYTES, sha256Block } from '../src/sha256-block.ts'

const reference = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest()

function referenceLevel(key: Uint8Array, bitsPerLevel: number): number {
  let zeros = 0
  for (const byte of reference(key)) {
    zeros += byte === 0 ? 8 : Math.clz32(byte) - 24
    if (byte !== 0) break
  }
  return Math.floor(zeros / bitsPerLevel)
}

describe('key levels', () => {
  it('hashes every message length one block holds as OpenSSL does', () => {
    for (let length = 0; length <= ONE_BLOCK_BYTES; length++) {
      for (let seed = 0; seed < 8; seed++) {
        const message = Uint8Array.from({ length }, (_, i) => (i * 131 + seed * 71 + length) & 0xff)
        const words = sha256Block(message)
        const expected = reference(message)
        for (let i = 0; i < 8; i++) assert.equal(words[i] >>> 0, expected.readUInt32BE(4 * i), `length ${length}`)
      }
    }
    assert.throws(() => sha256Block(new Uint8Array(ONE_BLOCK_BYTES + 1)), RangeError)
  })

  it('gives each key the level of its hash, short or long, at any bits per level', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 1, max: 8 }), (key, bits) => {
        assert.equal(keyLevel(key, bits), referenceLevel(key, bits))
      }),
      { numRuns: 2000 },
    )
    // Keys high in the tree (many leading zero bits) are rare: find some and check them too.
    let found = 0
    for (let n = 0; found < 20; n++) {
      const key = new TextEncoder().encode(`k${n}`)
      if (referenceLevel(key, 1) < 12) continue
      found++
      assert.equal(keyLevel(key, 1), referenceLevel(key, 1), `k${n}`)
    }
  })
})
