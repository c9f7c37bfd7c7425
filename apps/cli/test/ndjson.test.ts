// The import/export file format: lines read as DAG-JSON (by JSON.parse where that gives the same),
// binary values in base64, line numbers in errors.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isDeepStrictEqual } from 'node:util'
import { decodeWire } from '@dagsync/daemon/client'
import { LineError, lineToOp, readDagJson, readLines } from '../src/ndjson.ts'

const outcome = (read: (text: string) => unknown, text: string): unknown => {
  try {
    return read(text)
  } catch (err) {
    return `refused: ${(err as Error).message}`
  }
}

/** A random JSON text: maps (repeated keys now and then), lists, strings with escapes, numbers. */
function randomJson(random: () => number, depth = 0): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const r = random()
  if (depth > 3 || r < 0.35)
    return pick([
      '0',
      '-0',
      '1.5',
      '-12',
      '1e3',
      '12345678901234567890',
      '9007199254740993',
      'true',
      'null',
      '"a"',
      '"\\"quoted\\": 1"',
      '"\\ufeffbom"',
      '"é"',
      '"x\\\\"',
      '{"/": "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}',
      '{"/": {"bytes": "AAEC"}}',
    ])
  if (r < 0.6)
    return `[${Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1)).join(', ')}]`
  const keys = Array.from({ length: Math.floor(random() * 4) }, () => pick(['a', 'b', 'k":', 'c\\"']))
  return `{${keys.map((k) => `"${k}": ${randomJson(random, depth + 1)}`).join(', ')}}`
}

describe('the import format', () => {
  it('reads a line as DAG-JSON does, whatever the fast path takes', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const texts = [
      '{"a":1,"a":2}',
      '{"k":"x\\":1,\\"y","k":2}',
      '{"a":{"b":1,"b":1}}',
      '{"a": 1e400}',
      ...Array.from({ length: 3000 }, () => randomJson(random)),
    ]
    let fast = 0
    for (const text of texts) {
      const expected = outcome(decodeWire, text)
      const got = outcome(readDagJson, text)
      const bothRefused = typeof expected === 'string' && typeof got === 'string'
      assert.ok(bothRefused || isDeepStrictEqual(got, expected), `${text}: ${String(got)} vs ${String(expected)}`)
      if (!bothRefused && !text.includes('"/"') && !text.includes('-0')) fast++
    }
    assert.ok(fast > 1000, 'most lines took the fast path')
  })

  it('turns lines into ops, and names the line of a bad one', () => {
    assert.deepEqual(lineToOp('{"key": "a", "value": {"n": 1}}', 1), { op: 'put', key: 'a', value: { n: 1 } })
    assert.deepEqual(lineToOp('{"key": {"/": {"bytes": "AP8"}}, "delete": true}', 2), {
      op: 'delete',
      key: Uint8Array.of(0, 255),
    })
    assert.deepEqual(lineToOp('{"key": "b", "bytes": "aGk"}', 3), {
      op: 'put-bytes',
      key: 'b',
      bytes: new TextEncoder().encode('hi'),
    })
    const big = Buffer.alloc(3_000_000, 7)
    const op = lineToOp(JSON.stringify({ key: { '/': { bytes: 'AP8' } }, bytes: big.toString('base64') }), 4)
    assert.deepEqual(op, { op: 'put-bytes', key: Uint8Array.of(0, 255), bytes: new Uint8Array(big) })
    const bad: [string, RegExp][] = [
      ['{"key": "a", "value": 1', /^line 9: not JSON/],
      ['[1]', /^line 9: not an object/],
      ['{"key": "a"}', /^line 9: give exactly one of "value", "bytes", "ref" or "delete"/],
      ['{"key": "a", "value": 1, "delete": true}', /give exactly one/],
      ['{"key": "a", "vaule": 1}', /give exactly one/],
      ['{"key": "a", "value": 1, "extra": 2}', /unknown field "extra"/],
      ['{"key": 1, "value": 1}', /"key" must be a string or bytes/],
      ['{"key": "a", "delete": false}', /"delete" must be true/],
      ['{"key": "a", "bytes": "a=b"}', /"bytes" must be base64/],
      ['{"key": "a", "bytes": "abcde"}', /"bytes" must be base64/],
      ['{"key": "a", "ref": "bafy"}', /"ref" must be a CID/],
      [JSON.stringify({ key: 'a', value: 'x'.repeat(70_000) }), /the value is over 64 KiB, the limit for JSON values/],
    ]
    for (const [text, message] of bad) {
      assert.throws(
        () => lineToOp(text, 9),
        (err: Error) => err instanceof LineError && err.line === 9 && message.test(err.message),
        text.slice(0, 60),
      )
    }
  })

  it('splits lines on \\n or \\r\\n in any pieces, drops a byte-order mark only at the start, and names a line that is not UTF-8', async () => {
    const pieces = (bytes: Uint8Array, size: number) =>
      Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
    const text = new Uint8Array(Buffer.from('\ufeffone\r\ntwo\n\n\ufeffthree'))
    for (const size of [1, 3, 100]) {
      const lines: string[] = []
      for await (const line of readLines(pieces(text, size) as unknown as AsyncIterable<Uint8Array>)) lines.push(line)
      assert.deepEqual(lines, ['one', 'two', '', '\ufeffthree'])
    }
    const broken = Buffer.concat([Buffer.from('a\nb\n'), Buffer.from([0xff]), Buffer.from('\nc\n')])
    await assert.rejects(
      (async () => {
        for await (const _ of readLines([broken] as unknown as AsyncIterable<Uint8Array>)) {
          // reading
        }
      })(),
      /^LineError: line 3: not UTF-8 text$/,
    )
  })
})
