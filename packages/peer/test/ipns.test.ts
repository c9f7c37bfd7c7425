// The IPNS records a writer publishes, decoded as a peer receives them: the announcement itself
// (sequence = the commit's seq, V2 signature only), renewed before it expires.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { multihashToIPNSRoutingKey, unmarshalIPNSRecord } from 'ipns'
import { decodeTopicMessage } from '../src/announcement.ts'
import { type Announcement, type DagsyncNode, readAnnouncement, storePublicKey } from '../src/index.ts'
import { startNode, startReader, stopAll, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** The record `from` holds for store `id`, fetched as a peer that starts cold fetches it (libp2p fetch). */
async function fetchRecord(reader: DagsyncNode, from: DagsyncNode, id: string) {
  const routingKey = multihashToIPNSRoutingKey(storePublicKey(id).toMultihash())
  const bytes = await reader.helia.libp2p.services.fetch.fetch(from.peerId, routingKey, {
    signal: AbortSignal.timeout(5000),
  })
  return bytes === undefined ? undefined : unmarshalIPNSRecord(bytes)
}

describe('IPNS records', () => {
  it("carry the commit's seq as their sequence and a V2 signature only", async () => {
    const writer = await startNode({ ipnsDebounceMs: 100 })
    const served = await writer.createStore()
    for (let i = 1; i <= 20; i++) await served.store.assoc('k', i)
    const reader = await startReader(writer)
    // The debounced publish of the newest head.
    await waitFor(async () => (await fetchRecord(reader, writer, served.id))?.sequence === 20n, 'the record of 20')
    let record = (await fetchRecord(reader, writer, served.id))!
    assert.equal(record.value, `/ipfs/${served.store.head!.cid}`)
    assert.equal('signatureV1' in record, false, 'no V1 signature')

    // publishName publishes at once.
    await served.store.assoc('k', 21)
    assert.equal((await writer.publishName(served.id)).seq, 21)
    record = (await fetchRecord(reader, writer, served.id))!
    assert.equal(record.sequence, 21n)
    assert.equal('signatureV1' in record, false, 'no V1 signature')
    assert.ok((await reader.resolveName(served.id)).equals(served.store.head!.cid))
  })

  it("renew the head's record, same seq, before it expires, on the topic and in IPNS", async () => {
    const lifetime = 3000
    const writer = await startNode({ announcementLifetimeMs: lifetime, announceIntervalMs: 100 })
    const served = await writer.createStore()
    await served.store.assoc('k', 1)
    // A peer that listens to the store's topic without following it: it sees every re-announcement.
    const listener = await startReader(writer)
    const onTopic: Announcement[] = []
    listener.libp2p.services.pubsub.addEventListener('message', (event) => {
      if (event.detail.topic !== served.topic) return
      const { announcement } = decodeTopicMessage(event.detail.data)
      // An expired one is simply not a renewed one.
      readAnnouncement(storePublicKey(served.id), announcement).then(
        (a) => onTopic.push(a),
        () => {},
      )
    })
    listener.libp2p.services.pubsub.subscribe(served.topic)
    await writer.publishName(served.id)
    const published = (await fetchRecord(listener, writer, served.id))!
    const expires = Date.parse(published.validity)
    // From half its lifetime on, the next re-announcement signs it again.
    await waitFor(
      async () => Date.parse((await fetchRecord(listener, writer, served.id))?.validity ?? '') > expires,
      'a renewed record in IPNS',
      10_000,
    )
    const renewed = (await fetchRecord(listener, writer, served.id))!
    assert.equal(renewed.sequence, 1n)
    assert.equal('signatureV1' in renewed, false, 'no V1 signature')
    await waitFor(() => onTopic.some((a) => a.expires > expires && a.seq === 1), 'a renewed announcement on the topic')
    // And what a peer that subscribes is sent.
    const forNewReader = decodeTopicMessage((await served.messageForNewReader())!).announcement
    assert.ok((await readAnnouncement(storePublicKey(served.id), forNewReader)).expires > expires)

    // Once the first record has expired, a new reader still takes the head from the topic.
    await waitFor(() => Date.now() > expires, 'the first record expiring', 10_000)
    const late = await startReader(writer)
    const replica = await late.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(10_000))
    await waitFor(() => late.stats.announcementsAccepted >= 1, 'the renewed announcement taken from the topic')
  })
})
