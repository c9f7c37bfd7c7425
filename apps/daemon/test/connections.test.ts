// The `connections` setting on real libp2p nodes on loopback: 30 peers dial one node at the same
// moment, all from 127.0.0.1, as readers on one machine or browsers behind a reverse proxy do.
// libp2p's defaults refuse most of them; the daemon's take them all, and all sync a store.
// Whether a burst of 30 real dials lands within one second depends on the machine's load (the
// handshakes are CPU work in this one process), so the burst itself is 30 bare WebSockets that
// open at once and start the handshake (multistream-select): the node answers those it took and
// closes those it refused.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createDagsyncNode, type DagsyncNode, type DagsyncNodeInit } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'
import { multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_CONFIG } from '../src/config.ts'
import { startDaemon } from '../src/daemon.ts'
import { initRepo } from '../src/repo.ts'

const PEERS = 30
const nodes: DagsyncNode[] = []
after(() => Promise.all(nodes.map((n) => n.stop())))

async function start(init: Partial<DagsyncNodeInit> = {}): Promise<DagsyncNode> {
  const node = await createDagsyncNode({ storage: memoryStorage(), announceIntervalMs: 60_000, ...init })
  nodes.push(node)
  return node
}

const MULTISTREAM = new TextEncoder().encode('\u0013/multistream/1.0.0\n\u0007/noise\n')

/** Opens `count` WebSockets to `target` at once; resolves with how many the node answered. */
async function burst(target: DagsyncNode, count: number): Promise<number> {
  const port = multiaddr(target.addresses[0] as string)
    .getComponents()
    .find((c) => c.name === 'tcp')?.value
  const url = `ws://127.0.0.1:${port}`
  const sockets = Array.from({ length: count }, () => new WebSocket(url))
  const answered = await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<boolean>((resolve) => {
          socket.binaryType = 'arraybuffer'
          socket.onopen = () => socket.send(MULTISTREAM)
          socket.onmessage = () => resolve(true)
          socket.onclose = () => resolve(false)
          socket.onerror = () => resolve(false)
        }),
    ),
  )
  for (const socket of sockets) socket.close()
  return answered.filter(Boolean).length
}

/** Peers that listen nowhere: they only dial. */
function peers(count: number): Promise<DagsyncNode[]> {
  return Promise.all(Array.from({ length: count }, () => start({ listen: [] })))
}

/** Each peer dials `target` once, all at once (no redial); resolves with how many got through. */
async function dialAtOnce(target: DagsyncNode, from: DagsyncNode[]): Promise<number> {
  const address = multiaddr(target.addresses[0] as string)
  const dials = await Promise.allSettled(
    from.map((peer) => peer.libp2p.dial(address, { signal: AbortSignal.timeout(30_000) })),
  )
  return dials.filter((d) => d.status === 'fulfilled').length
}

describe('the connections setting', () => {
  it("libp2p's defaults answer a few of 30 connections opened from one host at once, the daemon's all", async () => {
    // libp2p's: 5 a second from one host; a burst spread over two seconds by a busy machine gets 10.
    const answered = await burst(await start(), PEERS)
    assert.ok(answered <= 10, `${answered} of ${PEERS} answered`)
    assert.equal(await burst(await start({ connectionLimits: DEFAULT_CONFIG.connections }), PEERS), PEERS)
  })

  it("the daemon's defaults take 30 peers that dial from one host at once, and all of them sync", async () => {
    const daemon = await start({ connectionLimits: DEFAULT_CONFIG.connections })
    const served = await daemon.createStore()
    await served.store.assoc('greeting', 'hello')
    const readers = await peers(PEERS)
    assert.equal(await dialAtOnce(daemon, readers), PEERS)
    await Promise.all(
      readers.map(async (reader) => {
        const replica = await reader.follow(served.id)
        await replica.synced(1, AbortSignal.timeout(60_000))
        assert.equal(await replica.get('greeting'), 'hello')
      }),
    )
  })

  it('refuses a connection past maxConnections', async () => {
    const node = await start({ connectionLimits: { ...DEFAULT_CONFIG.connections, maxConnections: 2 } })
    const [a, b, c] = (await peers(3)) as [DagsyncNode, DagsyncNode, DagsyncNode]
    assert.equal(await dialAtOnce(node, [a]), 1)
    assert.equal(await dialAtOnce(node, [b]), 1)
    assert.equal(await dialAtOnce(node, [c]), 0)
  })

  it('is what a daemon started on a repo gives its node', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'dagsync-connections-'))
    await initRepo(repo, {
      demo: false,
      dht: { enabled: false, bootstrap: [] },
      relay: { ...DEFAULT_CONFIG.relay, enabled: false },
    })
    const daemon = await startDaemon({
      repo,
      listen: ['/ip4/127.0.0.1/tcp/0/ws'],
      api: '127.0.0.1:0',
      logLevel: 'silent',
    })
    try {
      assert.equal(await burst(daemon.node, PEERS), PEERS)
    } finally {
      await daemon.stop()
      await rm(repo, { recursive: true, force: true })
    }
  })
})
