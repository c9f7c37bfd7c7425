// A lying peer against a cold reader in a process of its own, connected to the liar and to the
// writer: the reader's memory must stay within twice what it is when both are honest, and the
// head it adopts must be whole. The liar is a real node following the store (so its bitswap is honest) whose
// fast path sends the commit, then 32 MiB of blocks the commit does not reach, then the truth;
// or the truth followed by junk that never ends.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { DagsyncNode } from '@dagsync/peer'
import { SYNC_PROTOCOL } from '../../packages/peer/src/index.ts'
import { type Message, serve } from '../../packages/peer/src/rpc.ts'
import { newBlockMessages } from '../../packages/peer/src/sync.ts'
import { startNode, startReader, stopNode } from '../../packages/peer/test/helpers.ts'
import { type FaultResult, result } from './report.ts'

const GUARD = join(import.meta.dirname, '..', '..', 'packages', 'peer', 'test', 'loopback-guard.ts')
const READER = join(import.meta.dirname, 'fixtures', 'reader-memory.ts')

interface ReaderRun {
  grewMiB: number
  missing: number
  path: string
}

async function coldReader(peers: readonly DagsyncNode[], store: string, seq: number): Promise<ReaderRun> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', GUARD, READER, peers.map((p) => p.addresses[0]).join(','), store, String(seq)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let out = ''
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const code = await new Promise((resolve) => child.on('exit', resolve))
  if (code !== 0) throw new Error(`the reader exited with ${code}`)
  return JSON.parse(out) as ReaderRun
}

type Lie = (honest: Message[]) => AsyncGenerator<Message>

const LIES: Record<string, Lie> = {
  'junk first': async function* ([commit, ...rest]) {
    yield commit
    const junk = new Uint8Array(512 * 1024)
    for (let i = 0; i < 64; i++) {
      junk[0] = i
      yield { b: junk, k: 0x55 }
    }
    yield* rest
  },
  'endless junk after the truth': async function* (honest) {
    yield* honest
    for (let i = 0; ; i++) yield { b: new Uint8Array(64 * 1024).fill(i & 0xff), k: 0x55 }
  },
}

export async function lyingPeer(runs: number): Promise<FaultResult> {
  const writer = await startNode({ pushMaxBytes: 0, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
  const served = await writer.createStore()
  await served.store.transact(async (tx) => {
    for (let i = 0; i < 3000; i++) await tx.assoc(`k${i}`, { i, text: i % 10 === 0 ? 'x'.repeat(600) : 'y' })
  })
  const seq = served.store.head!.seq
  const relay = await startReader(writer)
  const replica = await relay.follow(served.id)
  await replica.synced(seq, AbortSignal.timeout(30_000))
  const problems: string[] = []
  let refused = 0
  let lies = 0
  let honestPeak = 0
  let lyingPeak = 0
  try {
    for (let run = 0; run < runs; run++) {
      await relay.libp2p.unhandle(SYNC_PROTOCOL)
      await serve(relay.libp2p, SYNC_PROTOCOL, async function* (request) {
        yield* newBlockMessages(replica.store, null, request.w as never)
      })
      const honest = await coldReader([relay, writer], served.id, seq)
      honestPeak = Math.max(honestPeak, honest.grewMiB)
      if (honest.missing > 0)
        problems.push(`run ${run}: the honest sync adopted a head missing ${honest.missing} blocks`)
      for (const [name, lie] of Object.entries(LIES)) {
        await relay.libp2p.unhandle(SYNC_PROTOCOL)
        await serve(relay.libp2p, SYNC_PROTOCOL, async function* (request) {
          const truth: Message[] = []
          for await (const m of newBlockMessages(replica.store, null, request.w as never)) truth.push(m)
          yield* lie(truth)
        })
        lies++
        const lying = await coldReader([relay, writer], served.id, seq)
        lyingPeak = Math.max(lyingPeak, lying.grewMiB)
        if (lying.missing > 0) problems.push(`run ${run} (${name}): adopted a head missing ${lying.missing} blocks`)
        else refused++
      }
    }
  } finally {
    await stopNode(relay)
    await stopNode(writer)
  }
  const round = (n: number) => Math.round(n * 10) / 10
  return result(`lying peer vs a cold reader (honest peak ${round(honestPeak)} MiB)`, {
    rounds: runs,
    badInputs: lies,
    refused,
    peakMiB: round(lyingPeak),
    peakLimitMiB: round(2 * honestPeak),
    problems,
  })
}
