// Failures a node meets are logged (or thrown), never dropped: storage that fails reads under a
// writer, and a key that cannot sign.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { BlockstoreStorage, MemoryBlockstore, memoryStorage, openStore } from '@dagsync/store'
import { cidOf } from '@dagsync/tree'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { BaseBlockstore } from 'blockstore-core'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { ServedStore, SYNC_PROTOCOL } from '../src/index.ts'
import { call } from '../src/rpc.ts'
import { recordingLog, startNode, startReader, stopAll, stopNode, violations, waitFor } from './helpers.ts'

after(async () => {
  await stopAll()
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

/** Blocks in memory whose reads fail, for the blocks `failing` picks. */
class FailingBlockstore extends BaseBlockstore {
  readonly #blocks = new MemoryBlockstore()
  failing: (cid: CID) => boolean = () => false

  override put(cid: CID, bytes: Uint8Array): CID | Promise<CID> {
    return this.#blocks.put(cid, bytes)
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    if (this.failing(cid)) throw new Error(`reading ${cid} failed (injected)`)
    yield* this.#blocks.get(cid)
  }

  override async has(cid: CID): Promise<boolean> {
    if (this.failing(cid)) throw new Error(`reading ${cid} failed (injected)`)
    return this.#blocks.has(cid)
  }
}

describe('errors', () => {
  it('a writer whose storage fails logs the push it cannot make and the fast-path request it cannot answer', async () => {
    const blocks = new FailingBlockstore()
    const { log, errors } = recordingLog()
    const writer = await startNode({ storage: new BlockstoreStorage(blocks, new MemoryDatastore()), log })
    const served = await writer.createStore()
    await served.store.assoc('a', 1)
    const reader = await startReader(writer, { fetchTimeoutMs: 1000 })
    const replica = await reader.follow(served.id)
    await replica.synced(1, AbortSignal.timeout(10_000))
    await waitFor(() => writer.libp2p.services.pubsub.getSubscribers(replica.topic).length > 0, 'the reader subscribed')

    blocks.failing = () => true
    await served.store.assoc('a', 2)
    await waitFor(() => errors.some((e) => /push of .* at 2 could not be made: .*injected/.test(e)), 'the push failure')
    await waitFor(
      () => errors.some((e) => /\/dagsync\/sync\/2\.0\.0 request from .* failed: .*injected/.test(e)),
      'the failed fast-path request',
    )
    // Once storage reads again, the reader catches up.
    blocks.failing = () => false
    await replica.synced(2, AbortSignal.timeout(20_000))
  })

  it('a writer that cannot send on gossip logs each announcement, re-announcement and IPNS publish that fails', async () => {
    const { log, errors } = recordingLog()
    const writer = await startNode({ log, announceIntervalMs: 50, ipnsDebounceMs: 50 })
    const served = await writer.createStore()
    const pubsub = writer.libp2p.services.pubsub
    pubsub.publish = async () => {
      throw new Error('no route (injected)')
    }
    await served.store.assoc('a', 1)
    for (const what of [
      /announcing .* at 1 failed: no route/,
      /IPNS publish of .* failed: no route/,
      /re-announcing .* failed: no route/,
    ]) {
      await waitFor(() => errors.some((e) => what.test(e)), `a line matching ${what}`)
    }
  })

  it('a node logs the requests it refuses', async () => {
    const { log, lines } = recordingLog()
    const server = await startNode({ log })
    const client = await startReader(server)
    const request = { s: 'no-such-store', h: null, w: cidOf(new Uint8Array(1)) }
    await assert.rejects(async () => {
      for await (const _ of call(client.libp2p, server.peerId, SYNC_PROTOCOL, request)) {
        // nothing comes
      }
    }, /unknown-store/)
    await waitFor(
      () => lines.some((l) => /refused a \/dagsync\/sync\/2\.0\.0 request from .* \(unknown-store\)/.test(l)),
      'the log',
    )
  })

  it("a writer that restarts and cannot read its head commit's parent logs it", async () => {
    const blocks = new FailingBlockstore()
    const storage = new BlockstoreStorage(blocks, new MemoryDatastore())
    const first = await startNode({ storage })
    const served = await first.createStore()
    await served.store.assoc('a', 1)
    const parent = served.store.head!.cid
    await served.store.assoc('a', 2)
    await stopNode(first)
    blocks.failing = (cid) => cid.equals(parent)
    const { log, errors } = recordingLog()
    const again = await startNode({ storage, log })
    await again.serve(served.id)
    await waitFor(() => errors.some((e) => /parent of the head of .* could not be read: .*injected/.test(e)), 'the log')
  })

  it('a store whose announcement cannot be signed logs it, rather than leave it unhandled', async () => {
    const { log, errors } = recordingLog()
    const store = await openStore({ storage: memoryStorage() })
    const key: PrivateKey = Object.assign(Object.create(await generateKeyPair('Ed25519')), {
      sign: () => {
        throw new Error('cannot sign (injected)')
      },
    })
    const context = {
      log,
      publish: async () => {},
      hasReaders: () => false,
      pushMaxBytes: 0,
      announcementLifetimeMs: 60_000,
      publishIpns: () => {},
    }
    const served = new ServedStore(context, 'a-store', 'a-topic', key, store)
    await store.assoc('a', 1)
    await waitFor(() => errors.some((e) => /announcing a-store failed: cannot sign/.test(e)), 'the log')
    served.stop()
    await store.close()
  })
})
