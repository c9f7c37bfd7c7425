// Bulk writes through the writer, with real helia nodes on loopback: a follower's
// `transact(ops)` makes one commit on the writer; the follower checks the list against the
// limits before sending it, and the writer holds what it is sent to the same limits.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  BulkTooLargeError,
  InvalidOpError,
  MAX_BULK_BYTES,
  MAX_BULK_OPS,
  stageBytes,
  type WriteOp,
} from '@dagsync/store'
import { RemoteError, UnauthorizedError, WRITE_PROTOCOL } from '../src/index.ts'
import { call } from '../src/rpc.ts'
import { recordingLog, startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

const bytesOf = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) % 256)

async function writerAndReader() {
  const { log, lines } = recordingLog()
  const writer = await startNode({ log })
  const served = await writer.createStore()
  await served.store.assoc('title', 'a string')
  const node = await startReader(writer)
  const replica = await node.follow(served.id)
  await replica.synced(1, AbortSignal.timeout(15_000))
  served.allowWriters([node.peerId])
  return { writer, served, node, replica, writerLog: lines }
}

describe('transact(ops) through the writer', () => {
  it('applies a list of every kind of op as one commit, held by the follower when it resolves', async () => {
    const { served, node, replica } = await writerAndReader()
    // Bytes already on the writer, placed by reference: they are not sent again.
    const staged = await stageBytes(served.store.storage, bytesOf(2_500_000, 1))
    const ops: WriteOp[] = [
      ...Array.from({ length: 2000 }, (_, i): WriteOp => ({ op: 'put', key: `user/${i}`, value: { i } })),
      { op: 'put-in', key: 'settings', path: ['theme', 'color'], value: 'dark' },
      { op: 'delete', key: 'title' },
      { op: 'put-bytes', key: 'logo', bytes: bytesOf(5000, 2) },
      { op: 'put-ref', key: 'video', ref: staged.ref },
      { op: 'put', key: 'bom', value: '\ufeffa leading U+FEFF is text' },
    ]
    const { commit } = await replica.transact(ops, { meta: { message: 'bulk' } })
    assert.equal(commit?.seq, 2, 'one commit for the whole list')
    assert.equal(served.store.head?.seq, 2)
    const { write, ...meta } = commit?.meta ?? {}
    assert.deepEqual(meta, { message: 'bulk', by: node.peerId.toString() })
    assert.match(String(write), /^[0-9a-f]{32}$/, 'a random write id, since none was given')
    assert.deepEqual(await replica.get('user/1999'), { i: 1999 }, 'the follower holds the commit')
    assert.deepEqual(await replica.get('settings'), { theme: { color: 'dark' } })
    assert.equal(await replica.exists('title'), false)
    assert.deepEqual(await (await replica.bget('logo'))?.bytes(), bytesOf(5000, 2))
    assert.deepEqual(await (await replica.bget('video'))?.bytes(), bytesOf(2_500_000, 1))
    assert.equal(await served.store.get('bom'), '\ufeffa leading U+FEFF is text', 'read as the store reads values')
    assert.equal(await replica.store.count(), 2004)
  })

  it('refuses a list over the limits before sending it, with the error the store gives', async () => {
    const { served, replica, writerLog } = await writerAndReader()
    const many = Array.from({ length: MAX_BULK_OPS + 1 }, (_, i): WriteOp => ({ op: 'delete', key: `k${i}` }))
    await assert.rejects(replica.transact(many), (err: Error) => {
      assert.ok(err instanceof BulkTooLargeError, `${err.name}: ${err.message}`)
      assert.deepEqual([err.index, err.limit], [MAX_BULK_OPS, 'ops'])
      return true
    })
    const large: WriteOp[] = [
      { op: 'put-bytes', key: 'a', bytes: bytesOf(MAX_BULK_BYTES / 2, 1) },
      { op: 'put-bytes', key: 'b', bytes: bytesOf(MAX_BULK_BYTES / 2, 2) },
    ]
    await assert.rejects(replica.transact(large), (err: Error) => {
      assert.ok(err instanceof BulkTooLargeError)
      assert.deepEqual([err.index, err.limit], [1, 'bytes'])
      return true
    })
    await assert.rejects(replica.transact([{ op: 'put', key: 'a' } as never]), InvalidOpError)
    // Had a list been sent, the writer would have answered (and logged the refusal) before the call settled.
    assert.deepEqual(
      writerLog.filter((line) => line.includes(WRITE_PROTOCOL)),
      [],
      'nothing was sent',
    )
    assert.equal(served.store.head?.seq, 1)
  })

  it('holds what a peer sends to the same limits, and refuses an op for what it holds, committing nothing', async () => {
    const { writer, served, node, replica } = await writerAndReader()
    const send = async (ops: unknown[]) => {
      for await (const _ of call(node.libp2p, writer.peerId, WRITE_PROTOCOL, { s: served.id, ops })) {
        // the answer
      }
    }
    const refusals: [unknown[], string, number][] = [
      [Array.from({ length: MAX_BULK_OPS + 1 }, (_, i) => ({ op: 'delete', key: `k${i}` })), 'too-large', MAX_BULK_OPS],
      [
        [
          { op: 'put-bytes', key: 'a', bytes: bytesOf(600_000, 1) },
          { op: 'put-bytes', key: 'b', bytes: bytesOf(600_000, 2) },
        ],
        'too-large',
        1,
      ],
      [
        [
          { op: 'put', key: 'ok', value: 1 },
          { o: 'put', k: 'old form', v: 1 },
        ],
        'invalid',
        1,
      ],
    ]
    for (const [ops, code, index] of refusals) {
      await assert.rejects(send(ops), (err: Error) => {
        assert.ok(err instanceof RemoteError)
        assert.deepEqual([err.code, err.index], [code, index], err.message)
        return true
      })
    }
    // An op the writer refuses for what the store holds: the follower gets the store's error.
    await assert.rejects(
      replica.transact([
        { op: 'put', key: 'fine', value: 1 },
        { op: 'put-in', key: 'title', path: ['deep'], value: 1 },
      ]),
      (err: Error) => {
        assert.ok(err instanceof InvalidOpError, `${err.name}: ${err.message}`)
        assert.equal(err.index, 1)
        assert.match(err.message, /^ops\[1\] \(put-in "title"\): path segment 1 \("deep"\) indexes a map/)
        return true
      },
    )
    assert.equal(served.store.head?.seq, 1, 'nothing was committed')
    assert.equal(await served.store.exists('fine'), false)

    const stranger = await startReader(writer)
    const theirs = await stranger.follow(served.id)
    await theirs.synced(1, AbortSignal.timeout(15_000))
    await assert.rejects(theirs.transact([{ op: 'put', key: 'x', value: 1 }]), UnauthorizedError)
  })
})
