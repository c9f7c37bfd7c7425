// The writer's DHT publications, one at a time per store: heads committed while one runs collapse
// into the newest, and only the newest head stays reprovided. The routing here records calls and
// holds the first put until told, to force a burst of commits to land during a publication.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ContentRouting } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createAnnouncement } from '../src/announcement.ts'
import { DhtPublisher } from '../src/discovery/publish.ts'

const DAG_CBOR = 0x71

async function commitCid(n: number): Promise<CID> {
  return CID.createV1(DAG_CBOR, await sha256.digest(new TextEncoder().encode(String(n))))
}

describe('DHT publications', () => {
  it('run one at a time per store; a burst during one collapses into its newest head', async () => {
    const calls: string[] = []
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const commits = await Promise.all([1, 2, 3].map(commitCid))
    const key = await generateKeyPair('Ed25519')
    const announcements = await Promise.all(commits.map((c, i) => createAnnouncement(key, c, i + 1)))
    const name = (cid: CID) => `c${commits.findIndex((c) => c.equals(cid)) + 1}`
    const routing: ContentRouting = {
      put: async (_key, value) => {
        calls.push(`put a${announcements.findIndex((a) => a.bytes === value) + 1}`)
        if (calls.length === 1) await held
      },
      get: async () => new Uint8Array(),
      provide: async (cid) => {
        calls.push(`provide ${name(cid)}`)
      },
      cancelReprovide: async (cid) => {
        calls.push(`cancel ${name(cid)}`)
      },
      findProviders: async function* () {},
    }
    const publisher = new DhtPublisher(routing, logger('test'), new AbortController().signal)
    const routingKey = new Uint8Array([1])
    publisher.publish('s', routingKey, announcements[0])
    publisher.publish('s', routingKey, announcements[1])
    publisher.publish('s', routingKey, announcements[2])
    release()
    await publisher.settled('s')
    // The second head is never published; the first stops being reprovided once the third is.
    assert.deepEqual(calls, ['put a1', 'provide c1', 'put a3', 'provide c3', 'cancel c1'])
  })
})
