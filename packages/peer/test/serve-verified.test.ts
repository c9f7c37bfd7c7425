// A replica serves others (pages serve each other this way: docs/browser.md) only the commits it
// holds whole: one it has heard announced but not synced is answered not-found, never in part.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { loadStoreKey } from '../src/identity.ts'
import { createAnnouncement, type DagsyncNode, SYNC_PROTOCOL } from '../src/index.ts'
import { call, type Message } from '../src/rpc.ts'
import { startNode, startReader, stopAll, stopNode, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** Every reply of a fast-path request, or the error it ended with. */
async function ask(
  from: DagsyncNode,
  to: DagsyncNode,
  request: Message,
): Promise<{ messages: number; error?: string }> {
  let messages = 0
  try {
    for await (const _ of call(from.libp2p, to.peerId, SYNC_PROTOCOL, request)) messages++
    return { messages }
  } catch (err) {
    return { messages, error: (err as Error).message }
  }
}

describe('what a replica serves', () => {
  it('answers not-found for a commit it has heard of but not synced, and serves the one it holds', async () => {
    const writer = await startNode({ pushMaxBytes: 0 })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const reader = await startReader(writer, { fetchTimeoutMs: 500, syncTimeoutMs: 500 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(30_000))
    // Commit 2 is announced to the reader, but only once the writer, the one holder, is gone.
    served.stop()
    await served.store.assoc('b', 2)
    const key = await loadStoreKey(writer.storage.datastore, served.id)
    const head = served.store.head
    assert.ok(key !== undefined && head !== null)
    const announcement = await createAnnouncement(key, head.cid, 2)
    await stopNode(writer)
    replica.offer(announcement)
    await waitFor(() => replica.status().newest?.seq === 2 && replica.status().lastError !== undefined, 'a failed sync')
    assert.equal(replica.status().synced?.seq, 1)

    const client = await startReader(reader)
    const notHeld = await ask(client, reader, { s: served.id, h: null, w: announcement.commit })
    assert.deepEqual(notHeld, { messages: 0, error: notHeld.error })
    assert.match(notHeld.error ?? '', /not-found/)
    const held = await ask(client, reader, { s: served.id, h: null, w: replica.head?.cid })
    assert.equal(held.error, undefined)
    assert.ok(held.messages > 1)
  })
})
