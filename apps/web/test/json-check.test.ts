// The JSON editor's check: strict JSON with the error's line and column, and DAG-JSON's bytes
// and links accepted as the values they stand for.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkJson } from '../src/json-check.ts'

describe('checkJson', () => {
  it('accepts JSON, DAG-JSON bytes and links', () => {
    assert.deepEqual(checkJson('{"done": true}'), { ok: true, value: { done: true } })
    assert.deepEqual(checkJson('{"/": {"bytes": "aGVsbG8"}}'), { ok: true, value: new TextEncoder().encode('hello') })
    const link = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const got = checkJson(`{"l": {"/": "${link}"}}`)
    assert.ok(got.ok)
    assert.equal(String((got.value as { l: unknown }).l), link, 'a link, as a CID')
  })

  it('names where a syntax error is, by line and column', () => {
    assert.deepEqual(checkJson('{\n  "a": 1,\n}'), {
      ok: false,
      message: 'Expected double-quoted property name',
      line: 3,
      column: 1,
    })
    // V8 gives no position for this one; dag-json's parser does.
    const tru = checkJson('{"a": tru}')
    assert.equal(tru.ok, false)
    assert.deepEqual(tru.ok ? undefined : [tru.line, tru.column], [1, 11])
    assert.deepEqual(checkJson('[1 2]'), {
      ok: false,
      message: "Expected ',' or ']' after array element",
      line: 1,
      column: 4,
    })
  })

  it('refuses what is JSON but not DAG-JSON, and nothing at all', () => {
    assert.deepEqual(checkJson('{"a": 1, "a": 2}'), {
      ok: false,
      message: 'not valid DAG-JSON: found repeat map key "a"',
    })
    const badCid = checkJson('{"/": "nope"}')
    assert.ok(!badCid.ok && badCid.message.startsWith('not valid DAG-JSON'))
    assert.equal(checkJson('  ').ok, false)
  })
})
