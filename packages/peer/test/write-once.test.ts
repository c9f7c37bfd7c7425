// Remote writes sent again, with real helia nodes on loopback: a write whose answer was lost is
// sent again with the same id (as the browser's outbox does) and is answered with the commit that
// applied it, not applied twice, even when its ifMatch no longer holds; the writer refuses a bad
// write id without applying anything.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { RemoteError, WRITE_PROTOCOL } from '../src/index.ts'
import { call } from '../src/rpc.ts'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

describe('a remote write sent again', () => {
  it('with the same write id is answered with its first commit, even when its ifMatch no longer holds', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('doc', { v: 1 })
    const node = await startReader(writer)
    const replica = await node.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(15_000))
    served.allowWriters([node.peerId])

    const write = () =>
      replica.transact([{ op: 'put', key: 'doc', value: { v: 2 } }], {
        ifMatch: { key: 'doc', value: { v: 1 } },
        writeId: 'outbox-1',
      })
    const first = await write()
    assert.equal(first.commit?.seq, 2)
    await served.store.assoc('later', true)
    const again = await write()
    assert.equal(again.commit?.seq, 2, 'the commit that applied it')
    assert.equal(served.store.head?.seq, 3, 'no commit was made for the copy')
    const log = []
    for await (const commit of served.store.log({ limit: 2 })) log.push(commit)
    const applied = log[1]
    assert.equal(applied?.meta?.write, 'outbox-1', "the commit's metadata names the write")
    assert.equal(applied?.meta?.by, node.peerId.toString())

    // A new write with another id is a new write: its stale ifMatch is refused.
    await assert.rejects(
      replica.transact([{ op: 'put', key: 'doc', value: { v: 2 } }], {
        ifMatch: { key: 'doc', value: { v: 1 } },
        writeId: 'outbox-2',
      }),
      { name: 'PreconditionFailedError' },
    )
    await assert.rejects(replica.transact([], { writeId: 'x'.repeat(129) }), { name: 'RemoteWriteError' })
  })

  it('with a write id that is not a string of 1 to 128 characters is refused by the writer, which changes nothing', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    const node = await startReader(writer)
    served.allowWriters([node.peerId])
    for (const w of [7, '', 'x'.repeat(129)]) {
      const request = { s: served.id, ops: [{ op: 'put', key: 'k', value: 1 }], w }
      await assert.rejects(
        (async () => {
          for await (const _ of call(node.libp2p, writer.peerId, WRITE_PROTOCOL, request)) void _
        })(),
        (err: Error) => {
          assert.ok(err instanceof RemoteError, `${err.name}: ${err.message}`)
          assert.equal(err.code, 'bad-request')
          assert.match(err.message, /write's id is a string of 1 to 128 characters/)
          return true
        },
      )
    }
    assert.equal(served.store.head, null)
  })

  it('whose connection closes as it starts is asked again on a new one, and applied once', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('doc', 1)
    const node = await startReader(writer)
    const replica = await node.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(60_000))
    served.allowWriters([node.peerId])
    // The first ask meets a connection that is closing, as a CI run once saw.
    const dial = node.libp2p.dialProtocol.bind(node.libp2p)
    let failed = 0
    node.libp2p.dialProtocol = (async (...args: Parameters<typeof dial>) => {
      if (args[1] === WRITE_PROTOCOL && failed++ === 0)
        throw new Error('The connection muxer is "closed" and not "open"')
      return dial(...args)
    }) as typeof dial
    const { commit } = await replica.transact([{ op: 'put', key: 'doc', value: 2 }])
    assert.equal(failed, 2, 'asked twice')
    assert.equal(commit?.seq, 2)
    assert.equal(served.store.head?.seq, 2, 'one commit')
  })
})
