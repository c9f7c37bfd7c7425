// Twenty readers on one host (127.0.0.1), each connected to the writer and to the next reader, as
// readers on one machine or browsers behind one reverse proxy are. Gossipsub's defaults failed
// them twice over: past 10 peers on one address it scores them down until it ignores them, and
// it sends every message a node publishes to every subscriber, so the writer's upload grew with
// its readers. Here every reader gets each commit, and the writer sends a commit to its gossip
// mesh (at most Dhi = 12 peers) only; a reader that joins late still gets the head at once.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { startNode, startReader, stopAll, violations } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

const READERS = 20
/** Gossipsub's Dhi: the most peers a node keeps in a topic's mesh. */
const MESH_HIGH = 12

describe('many readers on one host', () => {
  it('all twenty get each commit, which the writer sends to its mesh, not to every reader', async () => {
    const writer = await startNode({ connectionLimits: { inboundPerHostPerSecond: 100, maxPendingInbound: 100 } })
    const served = await writer.createStore()
    await served.store.assoc('k', 0)
    const readers = await Promise.all(Array.from({ length: READERS }, () => startReader(writer)))
    for (const [i, reader] of readers.entries())
      reader.connect((readers[(i + 1) % READERS] as typeof reader).addresses[0] as string)
    const replicas = await Promise.all(readers.map((r) => r.follow(served.id)))
    await Promise.all(replicas.map((r) => r.synced(1, AbortSignal.timeout(30_000))))

    // How many peers each of the writer's publications went to.
    const pubsub = writer.libp2p.services.pubsub
    const publish = pubsub.publish.bind(pubsub)
    const recipients: number[] = []
    pubsub.publish = async (topic, data) => {
      const result = await publish(topic, data)
      recipients.push(result.recipients.length)
      return result
    }
    await served.store.assoc('k', 1)
    await Promise.all(replicas.map((r) => r.synced(2, AbortSignal.timeout(30_000))))
    assert.ok(recipients.length > 0, 'the commit was announced')
    for (const count of recipients)
      assert.ok(count >= 1 && count <= MESH_HIGH, `a commit went to ${count} of ${READERS} readers`)
  })

  it('a reader that joins twenty others, all linked to the writer only, gets the head at once', async () => {
    const writer = await startNode({ connectionLimits: { inboundPerHostPerSecond: 100, maxPendingInbound: 100 } })
    const served = await writer.createStore()
    await served.store.assoc('k', 0)
    // Connected to the writer only: no other reader can tell the newcomer the head.
    const readers = await Promise.all(Array.from({ length: READERS }, () => startReader(writer)))
    await Promise.all(readers.map(async (r) => (await r.follow(served.id)).synced(1, AbortSignal.timeout(30_000))))
    const late = await startReader(writer)
    // Well before the next periodic announcement (60 s here).
    await (await late.follow(served.id)).synced(1, AbortSignal.timeout(10_000))
  })
})
