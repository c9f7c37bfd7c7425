// Discovery through the DHT, in one process: nodes in a chain (each joined through the one before),
// a store written at the far end, and a reader told only the store id and the first node. Also
// the DHT's own guards: which records a node stores and takes, and which of several it picks.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createIPNSRecord, marshalIPNSRecord, multihashToIPNSRoutingKey } from 'ipns'
import { CID } from 'multiformats/cid'
import { createAnnouncement } from '../src/announcement.ts'
import { DHT_PROTOCOL } from '../src/discovery/dht.ts'
import { selectDhtRecord, validateDhtRecord } from '../src/discovery/dht-records.ts'
import { type DagsyncNode, InvalidAnnouncementError, storeIdOf } from '../src/index.ts'
import { entries, startNode, stopAll, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

const address = (node: DagsyncNode) => `${node.addresses[0]}`

async function chain(length: number): Promise<DagsyncNode[]> {
  const nodes: DagsyncNode[] = []
  for (let i = 0; i < length; i++) {
    const previous = nodes.at(-1)
    nodes.push(
      await startNode({ ipnsDebounceMs: 50, dht: { bootstrap: previous === undefined ? [] : [address(previous)] } }),
    )
  }
  return nodes
}

/** libp2p's content routing asks every router (here, the DHT alone) and rejects with all their errors. */
const notFound = (err: AggregateError) => err.errors.length === 1 && err.errors[0].name === 'NotFoundError'

const commit = CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')

describe('the DHT', () => {
  it('leads a reader that knows one node and a store id to the store four hops away', async () => {
    const nodes = await chain(4)
    const writer = nodes[3]
    const served = await writer.createStore()
    await served.store.assoc('greeting', 'hello')
    await served.store.assoc('n', 2)
    const reader = await startNode({ dht: { bootstrap: [address(nodes[0])] } })
    const replica = await reader.follow(served.id)
    await replica.synced(2, AbortSignal.timeout(60_000))
    assert.ok(reader.libp2p.getProtocols().includes(DHT_PROTOCOL), 'the private DHT protocol')
    assert.ok(!reader.libp2p.getProtocols().includes('/ipfs/kad/1.0.0'), 'not the public IPFS DHT')
    assert.deepEqual(await entries(replica.store), [
      ['greeting', 'hello'],
      ['n', 2],
    ])
    // Walking the DHT may connect the reader to the writer before the lookup ends, and gossip
    // may then bring the head first: the lookup still has to find it.
    await waitFor(() => reader.stats.headsFromDht >= 1, 'the head found in the DHT', 30_000)
    assert.ok(
      reader.libp2p.getConnections(writer.peerId).length > 0,
      'the reader dialled the writer, which it was not told of, as the provider of the head',
    )
  })

  it('refuses announcements not signed by the key the record is named by', async () => {
    const storeKey = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const routingKey = multihashToIPNSRoutingKey(storeKey.publicKey.toMultihash())
    await validateDhtRecord(routingKey, (await createAnnouncement(storeKey, commit, 3)).bytes)
    const forged = await createAnnouncement(other, commit, 9)
    await assert.rejects(validateDhtRecord(routingKey, forged.bytes), InvalidAnnouncementError)
    const notAName = new TextEncoder().encode('/ipns/not-a-key')
    await assert.rejects(validateDhtRecord(notAName, forged.bytes), InvalidAnnouncementError)
  })

  it('neither stores nor hands out a forged record, or a signed one that names no commit, that a peer puts', async () => {
    const [honest] = await chain(1)
    const attacker = await startNode({ dht: { bootstrap: [address(honest)] } })
    // The attacker's own DHT takes anything, so it sends the forged record on.
    attacker.helia.libp2p.services.dht.validators.ipns = async () => {}
    const storeKey = await generateKeyPair('Ed25519')
    const routingKey = multihashToIPNSRoutingKey(storeKey.publicKey.toMultihash())
    const forged = await createAnnouncement(await generateKeyPair('Ed25519'), commit, 9)
    await attacker.libp2p.contentRouting.put(routingKey, forged.bytes, { signal: AbortSignal.timeout(10_000) })
    // Signed by the store's key, so IPNS's own rules would take it, but it names a raw block.
    const rawBlock = CID.createV1(0x55, commit.multihash)
    const notACommit = marshalIPNSRecord(
      await createIPNSRecord(storeKey, rawBlock, 10n, 60_000, { v1Compatible: false }),
    )
    await attacker.libp2p.contentRouting.put(routingKey, notACommit, { signal: AbortSignal.timeout(10_000) })
    await assert.rejects(
      honest.libp2p.contentRouting.get(routingKey, { signal: AbortSignal.timeout(10_000) }),
      notFound,
    )
    const reader = await startNode({ dht: { bootstrap: [address(honest)] } })
    const replica = await reader.follow(storeIdOf(storeKey.publicKey))
    await assert.rejects(
      reader.libp2p.contentRouting.get(routingKey, { signal: AbortSignal.timeout(10_000) }),
      notFound,
    )
    assert.equal(replica.knownSeq, 0)
  })

  it('picks the record with the highest sequence', async () => {
    const key = await generateKeyPair('Ed25519')
    const records = await Promise.all([1, 3, 2].map(async (seq) => (await createAnnouncement(key, commit, seq)).bytes))
    assert.equal(selectDhtRecord(new Uint8Array(), records), 1)
  })

  it('a writer with no DHT peer yet still publishes its name at once, the DHT put left to run on its own', async () => {
    const lonely = await startNode({ dht: { bootstrap: [] } })
    const served = await lonely.createStore()
    await served.store.assoc('k', 1)
    const published = await Promise.race([
      lonely.publishName(served.id),
      new Promise<never>((_, reject) =>
        AbortSignal.timeout(10_000).addEventListener('abort', () =>
          reject(new Error('publishName waited on the DHT put (no DHT peer answers it)')),
        ),
      ),
    ])
    assert.equal(published.seq, 1)
  })
})
