// A writer in its own process (LevelDB storage, a fixed port) and readers in this one.
import '../packages/peer/test/loopback-guard.ts'
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'
import { openLevelStorage } from '@dagsync/store/level'
import { violations } from '../packages/peer/test/loopback-guard.ts'
import { freePort } from './cli-helpers.ts'

const cleanup: (() => Promise<unknown>)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {})
  assert.deepEqual(violations, [], 'no traffic left loopback')
})

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dagsync-procs-'))
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** The writer process: send commands, read its answers line by line. */
class Writer {
  readonly child: ChildProcess
  readonly #lines: string[] = []
  #wake: (() => void) | undefined

  constructor(dir: string, port: number) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'writer.ts'), dir, String(port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    let buffered = ''
    this.child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() as string
      this.#lines.push(...lines)
      this.#wake?.()
    })
    cleanup.push(async () => this.child.kill('SIGKILL'))
  }

  // Generous: a writer process loading its sources on a busy 2-core machine took over 20 s.
  async line(prefix: string, timeoutMs = 90_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const at = this.#lines.findIndex((l) => l.startsWith(prefix))
      if (at >= 0)
        return this.#lines
          .splice(0, at + 1)
          [at].split(' ')
          .slice(1)
      if (Date.now() > deadline) throw new Error(`writer said no "${prefix}" within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        this.#wake = resolve
        setTimeout(resolve, 100)
      })
    }
  }

  async send(command: string, answer: string): Promise<string[]> {
    this.child.stdin?.write(`${command}\n`)
    return this.line(answer)
  }

  async quit(): Promise<void> {
    this.child.stdin?.write('quit\n')
    await new Promise((resolve) => this.child.once('exit', resolve))
  }
}

async function reader(init: Parameters<typeof createDagsyncNode>[0]): Promise<DagsyncNode> {
  const node = await createDagsyncNode({ announceIntervalMs: 2_000, ...init })
  cleanup.push(() => node.stop())
  return node
}

describe('replication across processes', () => {
  it('catches up a reader that was offline for 100 commits, and survives a writer restart', async () => {
    const [writerDir, readerDir, port] = [await scratch(), await scratch(), await freePort()]
    let writer = new Writer(writerDir, port)
    const [address, id] = await writer.line('ready')
    await writer.send('commit 10 first', 'head')

    let storage = await openLevelStorage(readerDir)
    let node = await reader({ storage, peers: [address] })
    let replica = await node.follow(id)
    await replica.synced(10, AbortSignal.timeout(20_000))

    // The reader goes offline; the writer commits 100 more.
    await node.stop()
    await storage.close()
    const [seq] = await writer.send('commit 100 offline', 'head')
    assert.equal(Number(seq), 110)

    // Back online with the same storage: it resumes following and catches up.
    storage = await openLevelStorage(readerDir)
    cleanup.push(() => storage.close())
    node = await reader({ storage, peers: [address] })
    replica = node.followed(id)!
    assert.ok(replica !== undefined, 'the follow was remembered')
    assert.equal(replica.head?.seq, 10, 'it reopens at what it held')
    await replica.synced(110, AbortSignal.timeout(30_000))
    assert.deepEqual(await replica.get('offline/99'), { i: 99, from: 'offline' })

    // The writer restarts (same key, same port): the reader redials it and keeps following.
    await writer.quit()
    writer = new Writer(writerDir, port)
    const [, sameId, restartedAt] = await writer.line('ready')
    assert.equal(sameId, id)
    assert.equal(Number(restartedAt), 110)
    await writer.send('commit 5 after-restart', 'head')
    await replica.synced(115, AbortSignal.timeout(30_000))
    assert.deepEqual(await replica.get('after-restart/4'), { i: 4, from: 'after-restart' })
    await writer.quit()
  })

  it('starts a new reader cold from another reader when the writer is gone (relay and IPNS)', async () => {
    const [writerDir, port] = [await scratch(), await freePort()]
    const writer = new Writer(writerDir, port)
    const [address, id] = await writer.line('ready')
    await writer.send('commit 20 data', 'head')
    const first = await reader({ storage: memoryStorage(), peers: [address] })
    const replica = await first.follow(id)
    await replica.synced(20, AbortSignal.timeout(20_000))
    // Let the writer's debounced IPNS publish reach the first reader before the writer goes.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    await writer.quit()

    const second = await reader({ storage: memoryStorage(), listen: [], peers: first.addresses })
    const late = await second.follow(id)
    await late.synced(20, AbortSignal.timeout(30_000))
    assert.deepEqual(await late.get('data/19'), { i: 19, from: 'data' })
    // The relayed announcement usually wins; IPNS must find the same head on its own too.
    const deadline = Date.now() + 15_000
    while (second.stats.headsFromIpns === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100))
    assert.ok(second.stats.headsFromIpns >= 1, 'IPNS resolution found the head through the first reader')
  })
})
