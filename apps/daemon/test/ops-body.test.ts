// A transact call's NDJSON body, read as it arrives: each line checked and counted against the
// store's bulk limits, a bad line named, and the event loop let go of while a long body is decoded.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MAX_BULK_OPS } from '@dagsync/store'
import * as dagCbor from '@ipld/dag-cbor'
import { varint } from 'multiformats'
import { ApiError } from '../src/api.ts'
import { encodeWire } from '../src/client.ts'
import { MAX_OP_CBOR_BYTES, MAX_OP_LINE_BYTES, MAX_OPS_BODY_BYTES, readOpsBody } from '../src/ops-body.ts'
import { OPS_CBOR } from '../src/wire.ts'

/** A body of `text`, in pieces of `size` bytes (lines split across pieces). */
function body(text: string, size = 1000): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.subarray(i, i + size))
      controller.close()
    },
  })
}

const lines = (n: number, op = (i: number): unknown => ({ op: 'put', key: `k${i}`, value: { i } })): string =>
  `${Array.from({ length: n }, (_, i) => encodeWire(op(i))).join('\n')}\n`

async function refusal(text: string): Promise<ApiError> {
  try {
    await readOpsBody(body(text, 4096))
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err))
    return err
  }
  assert.fail('the body was taken')
}

/** Ops as DAG-CBOR, each after its length. */
function cbor(ops: unknown[]): Uint8Array {
  return Buffer.concat(
    ops.flatMap((op) => {
      const bytes = dagCbor.encode(op)
      return [varint.encodeTo(bytes.length, new Uint8Array(varint.encodingLength(bytes.length))), bytes]
    }),
  )
}

function bytesBody(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += size) controller.enqueue(bytes.subarray(i, i + size))
      controller.close()
    },
  })
}

describe('a transact body', () => {
  it('is read a line at a time, whatever the pieces, blank lines and \\r\\n skipped, links and bytes decoded', async () => {
    const text = `\n{"op":"put","key":"a","value":{"/":"bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"}}\r\n\n${lines(3)}{"op":"put-bytes","key":{"/":{"bytes":"AAEC"}},"bytes":{"/":{"bytes":"aGk"}}}`
    for (const size of [1, 7, 100_000]) {
      const { ops } = await readOpsBody(body(text, size))
      assert.equal(ops.length, 5, `pieces of ${size}`)
      assert.equal(
        String((ops[0] as { value: unknown }).value),
        'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
      )
      assert.deepEqual(ops[4], { op: 'put-bytes', key: Uint8Array.of(0, 1, 2), bytes: new TextEncoder().encode('hi') })
    }
  })

  it('refuses a bad line by its number, with the index of its op', async () => {
    const cases: [string, number, RegExp][] = [
      [`${lines(2)}{"op":"put","key":"x"\n`, 2, /^line 3: not valid DAG-JSON/],
      [`${lines(2)}\n{"op":"put","key":"x"}\n`, 2, /^line 4: ops\[2\] \(put "x"\): a put op needs "value"/],
      [`${lines(1)}{"o":"put","k":"x","v":1}\n`, 1, /^line 2: ops\[1\] is not a map|"op" must be one of/],
      [
        `${lines(1)}${encodeWire({ op: 'put', key: 'x', value: 'x'.repeat(MAX_OP_LINE_BYTES) })}\n`,
        1,
        /^line 2: over 64 KiB, the longest op line: send a large binary value as DAG-CBOR/,
      ],
      [`${lines(1)}"${'x'.repeat(MAX_OP_LINE_BYTES + 10)}`, 1, /^line 2: over 64 KiB/],
      [`${lines(1)}${encodeWire({ op: 'put', key: 'x', value: 1, extra: 2 })}\n`, 1, /a put op has no field "extra"/],
    ]
    for (const [text, index, message] of cases) {
      const err = await refusal(text)
      assert.equal(err.code, 'bad-request')
      assert.equal(err.index, index, err.message)
      assert.match(err.message, message)
    }
  })

  it('refuses the op that passes a bulk limit, and a body too long to search for ops', async () => {
    const many = await refusal(lines(MAX_BULK_OPS + 5, (i) => ({ op: 'delete', key: `k${i}` })))
    assert.equal(many.index, MAX_BULK_OPS)
    assert.match(
      many.message,
      new RegExp(
        `^line ${MAX_BULK_OPS + 1}: ops\\[${MAX_BULK_OPS}\\] is past the limit of one bulk call \\(10000 ops\\)`,
      ),
    )
    const bytes = 'x'.repeat(40_000)
    const large = await refusal(lines(40, (i) => ({ op: 'put', key: `k${i}`, value: bytes })))
    assert.equal(large.index, 26, large.message)
    assert.match(large.message, /1 MiB of keys, paths and values/)
    const padded = await refusal(`${lines(1)}${'\n'.repeat(MAX_OPS_BODY_BYTES)}`)
    assert.match(padded.message, /the body is over 8 MiB, the most one transact call reads/)
  })

  it('may be length-prefixed DAG-CBOR, read an op at a time, with the same checks', async () => {
    const ops = [
      { op: 'put', key: 'a', value: { n: 2n ** 62n, text: '\ufeffa leading U+FEFF is text' } },
      { op: 'put-bytes', key: Uint8Array.of(1), bytes: new Uint8Array(900_000).fill(7) },
      { op: 'delete', key: 'b' },
    ]
    for (const [size, sent] of [
      [1, [ops[0], ops[2]]],
      [4096, ops],
      [1 << 21, ops],
    ] as const) {
      const read = await readOpsBody(bytesBody(cbor([...sent]), size), `${OPS_CBOR}; charset=binary`)
      assert.deepEqual(read.ops, sent, `pieces of ${size}`)
    }
    const refused = async (bytes: Uint8Array, index: number, message: RegExp) => {
      await assert.rejects(readOpsBody(bytesBody(bytes, 4096), OPS_CBOR), (err: Error) => {
        assert.ok(err instanceof ApiError)
        assert.deepEqual([err.code, err.index], ['bad-request', index], err.message)
        assert.match(err.message, message)
        return true
      })
    }
    const whole = cbor(ops)
    await refused(whole.subarray(0, whole.length - 1), 2, /^op 3: the body ends inside it/)
    await refused(
      Buffer.concat([cbor(ops.slice(0, 1)), Uint8Array.of(3, 0xff, 0xff, 0xff)]),
      1,
      /^op 2: not valid DAG-CBOR/,
    )
    const huge = varint.encodeTo(MAX_OP_CBOR_BYTES + 1, new Uint8Array(4))
    await refused(Buffer.concat([cbor(ops.slice(0, 1)), huge]), 1, /^op 2: \d+ bytes, over the \d+ one op may be/)
    await refused(
      cbor([{ op: 'put', key: 'a', value: 1, extra: 1 }]),
      0,
      /^op 1: ops\[0\] \(put "a"\): a put op has no field "extra"/,
    )
    const many = cbor(Array.from({ length: MAX_BULK_OPS + 1 }, (_, i) => ({ op: 'delete', key: `k${i}` })))
    await refused(many, MAX_BULK_OPS, /^op 10001: ops\[10000\] is past the limit of one bulk call \(10000 ops\)/)
    // Puts whose values are kept as they came count against the limits as any op does.
    const puts = (n: number, size: number) =>
      cbor(Array.from({ length: n }, (_, i) => ({ op: 'put', key: `k${i}`, value: 'x'.repeat(size) })))
    await refused(puts(MAX_BULK_OPS + 1, 1), MAX_BULK_OPS, /^op 10001: ops\[10000\] is past the limit.*10000 ops/)
    await refused(puts(11, 100_000), 10, /^op 11: ops\[10\] is past the limit.*1 MiB of keys, paths and values/)
  })

  it('lets other work run while a long body is decoded', async () => {
    const stream = body(lines(MAX_BULK_OPS), 1 << 20)
    let read = false
    let ranWhileReading: boolean | undefined
    setTimeout(() => {
      ranWhileReading = !read
    }, 0)
    const ops = await readOpsBody(stream)
    read = true
    assert.equal(ops.length, MAX_BULK_OPS)
    assert.equal(ranWhileReading, true, 'a timer ran before the body was read')
  })
})
