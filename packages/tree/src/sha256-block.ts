// SHA-256 of a message that fits in one block (at most 55 bytes), in plain JavaScript. Every
// key's level is the hash of a short key: one compression here costs about half of a call into
// hash-wasm (init, update, digest and the digest's array), which is most of the cost of a short
// input. Longer messages go to `sha256` in hash.ts.

/** The longest message one block holds: 64 bytes less the 0x80 pad byte and the 8-byte length. */
export const ONE_BLOCK_BYTES = 55

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
])
const INITIAL = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
])

const w = new Int32Array(64)
const digest = new Int32Array(8)

/**
 * The digest of `message` (at most ONE_BLOCK_BYTES) as eight big-endian 32-bit words, in an
 * array that the next call overwrites.
 */
export function sha256Block(message: Uint8Array): Int32Array {
  const n = message.length
  if (n > ONE_BLOCK_BYTES) throw new RangeError(`sha256Block takes at most ${ONE_BLOCK_BYTES} bytes, not ${n}`)
  // The padded block: the message, 0x80, zeros, and the length in bits (which fits the last word).
  w.fill(0, 0, 16)
  for (let i = 0; i < n; i++) w[i >> 2] |= message[i] << (24 - 8 * (i & 3))
  w[n >> 2] |= 0x80 << (24 - 8 * (n & 3))
  w[15] = n * 8
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15]
    const y = w[i - 2]
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0
  }
  let a = INITIAL[0]
  let b = INITIAL[1]
  let c = INITIAL[2]
  let d = INITIAL[3]
  let e = INITIAL[4]
  let f = INITIAL[5]
  let g = INITIAL[6]
  let h = INITIAL[7]
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    h = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  digest[0] = (a + INITIAL[0]) | 0
  digest[1] = (b + INITIAL[1]) | 0
  digest[2] = (c + INITIAL[2]) | 0
  digest[3] = (d + INITIAL[3]) | 0
  digest[4] = (e + INITIAL[4]) | 0
  digest[5] = (f + INITIAL[5]) | 0
  digest[6] = (g + INITIAL[6]) | 0
  digest[7] = (h + INITIAL[7]) | 0
  return digest
}
