// A write made before the node is connected to any peer (a page that reloads has its replica at
// once, while its daemon is still being dialled): it waits for a connection, up to
// syncTimeoutMs, instead of failing at once. Real helia nodes on loopback.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { RemoteWriteError } from '../src/index.ts'
import { startNode, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

describe('a write made before any peer is connected', () => {
  it('waits for the connection, then goes through the writer', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    await served.store.assoc('title', 'a string')
    const node = await startNode({ listen: [] })
    served.allowWriters([node.peerId])
    const replica = await node.follow(served.id)
    assert.equal(node.libp2p.getPeers().length, 0)

    // The write starts while nothing is connected; only then is the writer dialled.
    const write = replica.assoc('early', true)
    node.connect(writer.addresses[0] as string)
    const commit = await write
    assert.equal(commit?.seq, 2)
    assert.equal(await served.store.get('early'), true)
    assert.equal(await replica.get('early'), true, 'the replica holds the commit when the write resolves')
  })

  it('fails with RemoteWriteError when no peer connects within syncTimeoutMs', async () => {
    const writer = await startNode()
    const served = await writer.createStore()
    const node = await startNode({ listen: [], syncTimeoutMs: 300 })
    const replica = await node.follow(served.id)
    await assert.rejects(replica.assoc('never', true), (err: Error) => {
      assert.ok(err instanceof RemoteWriteError)
      assert.match(err.message, /no connected peer can take writes/)
      return true
    })
    assert.equal(await served.store.get('never'), undefined)
  })
})
