// The daemon and the CLI as a user meets them: real `dagsync` processes on real repos, talking
// over loopback. Two daemons sync a store; pins, gc and CARs round-trip; a remote pinning service
// (mock-ipfs-pinning-service, a real HTTP server) gets pins; kill -9 loses no acknowledged write;
// bad input gets the documented exit code and a message, and changes nothing.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { CarReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { apiClient, cli, cliJson, DaemonProcess, eventually, freePort, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, unauthorized: 4, unavailable: 5 }

interface StoreJson {
  id: string
  names: string[]
  role: string
  seq: number
  head: { '/': string } | null
}

async function readCar(bytes: Uint8Array): Promise<{ roots: string[]; blocks: Map<string, Uint8Array> }> {
  const reader = await CarReader.fromBytes(bytes)
  const blocks = new Map<string, Uint8Array>()
  for await (const { cid, bytes: data } of reader.blocks()) {
    const digest = await sha256.digest(data)
    assert.deepEqual(digest.bytes, cid.multihash.bytes, `block ${cid} matches its hash`)
    blocks.set(cid.toString(), data)
  }
  return { roots: (await reader.getRoots()).map(String), blocks }
}

describe('dagsync daemon', () => {
  it('starts on a fresh repo with a demo store, answers health and metrics, and stops cleanly on SIGTERM', async () => {
    const repo = join(await scratch.dir(), 'repo')
    const daemon = await DaemonProcess.start(scratch, repo)
    const ready = await daemon.ready
    assert.match(ready.peerId, /^12D3KooW/)
    assert.ok(ready.addresses.some((a) => a.startsWith('/ip4/127.0.0.1/tcp/') && a.includes('/ws/p2p/')))
    const demo = ready.stores.find((s) => s.names.includes('demo'))
    assert.equal(demo?.role, 'writer')
    assert.equal(demo?.seq, 1)

    const health = (await (await fetch(`${ready.api}/health`)).json()) as { peerId: string; stores: number }
    assert.equal(health.peerId, ready.peerId)
    assert.equal(health.stores, 1)

    const keys = await cli(scratch, repo, ['keys', 'demo'])
    assert.equal(keys.code, EXIT.ok, keys.stderr)
    assert.match(keys.stdout, /^KEY\s+TYPE\s+SIZE\s+LAST WRITE$/m)
    assert.match(keys.stdout, /^welcome\s+value/m)

    const put = await cli(scratch, repo, ['put', 'demo', 'greeting', '{"hello": "world"}'])
    assert.equal(put.code, EXIT.ok, put.stderr)
    assert.match(put.stdout, /commit 2 bafy/)
    const metrics = await (await fetch(`${ready.api}/metrics`)).text()
    assert.match(metrics, new RegExp(`dagsync_store_head_seq\\{store="${demo?.id}",name="demo",role="writer"\\} 2`))
    assert.match(metrics, /dagsync_commit_duration_seconds_count 1/)

    // A second daemon on the same repo is refused and names the holder.
    const second = await cli(scratch, repo, ['daemon', '--api-address', '127.0.0.1:0'])
    assert.equal(second.code, EXIT.unavailable)
    assert.match(second.stderr, new RegExp(`in use by a dagsync daemon \\(pid ${daemon.child.pid}`))

    const exit = await daemon.stop('SIGTERM')
    assert.deepEqual(exit, { code: 0, signal: null })
    // The lock is gone: the CLI now works on the repo directly, and the write is there.
    const get = await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'greeting'])
    assert.deepEqual(get.value, { hello: 'world' })
    const status = await cliJson<{ online: boolean; peerId: string }>(scratch, repo, ['status'])
    assert.equal(status.online, false)
    assert.equal(status.peerId, ready.peerId, 'the peer id is known offline')
  })

  it('syncs a store from a writer daemon to a reader daemon, and takes remote writes only once allowed', async () => {
    const writerRepo = await scratch.dir()
    const readerRepo = await scratch.dir()
    const writer = await DaemonProcess.start(scratch, writerRepo)
    const reader = await DaemonProcess.start(scratch, readerRepo)
    const w = await writer.ready
    const r = await reader.ready
    const demo = w.stores.find((s) => s.names.includes('demo'))?.id as string

    const connected = await cli(scratch, readerRepo, ['peers', 'connect', w.addresses[0] as string])
    assert.equal(connected.code, EXIT.ok, connected.stderr)
    const followed = await cliJson<StoreJson>(scratch, readerRepo, ['store', 'follow', demo, '--name', 'shared'])
    assert.equal(followed.role, 'replica')

    assert.equal((await cli(scratch, writerRepo, ['put', 'demo', 'live', '42'])).code, EXIT.ok)
    const seen = await eventually('the reader sees the write', async () => {
      const got = await cli(scratch, readerRepo, ['get', 'shared', 'live', '--json'])
      return got.code === EXIT.ok ? (JSON.parse(got.stdout) as { value: unknown }).value : undefined
    })
    assert.equal(seen, 42)
    const status = await cliJson<{ seq: number; lag: number; role: string }>(scratch, readerRepo, [
      'store',
      'status',
      'shared',
    ])
    assert.equal(status.role, 'replica')
    assert.equal(status.seq, 2)

    // Remote writes: refused until the writer allows the reader's peer id.
    const refused = await cli(scratch, readerRepo, ['put', 'shared', 'from-reader', '1'])
    assert.equal(refused.code, EXIT.unauthorized, refused.stderr)
    // The refusal says what the writer's operator runs; run as printed there, it lets the write in.
    const hint = /on the writer, run `dagsync (store allow [^`]+)`/.exec(refused.stderr)
    assert.ok(hint, refused.stderr)
    assert.equal(hint[1], `store allow ${demo} ${r.peerId}`)
    const notThere = await cli(scratch, writerRepo, ['get', 'demo', 'from-reader'])
    assert.equal(notThere.code, EXIT.notFound)

    const allowed = await cliJson<{ writers: string[] }>(scratch, writerRepo, hint[1].split(' '))
    assert.deepEqual(allowed.writers, [r.peerId])
    const write = await cliJson<{ commit: { seq: number } }>(scratch, readerRepo, ['put', 'shared', 'from-reader', '1'])
    assert.equal(write.commit.seq, 3)
    // It resolved once the reader's own head includes it, and the writer has it.
    assert.deepEqual(
      (await cliJson<{ value: unknown }>(scratch, readerRepo, ['get', 'shared', 'from-reader'])).value,
      1,
    )
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, writerRepo, ['get', 'demo', 'from-reader'])).value, 1)

    // pin add of a CID the reader lacks fetches the whole DAG from the writer; verify re-hashes it.
    const other = await cliJson<StoreJson>(scratch, writerRepo, ['store', 'create', '--name', 'other'])
    // Values over 256 bytes are blocks of their own: the DAG is a commit, a tree node and three values.
    for (const key of ['a', 'b', 'c']) {
      const value = JSON.stringify({ key, text: key.repeat(2000) })
      assert.equal((await cli(scratch, writerRepo, ['put', 'other', key, value])).code, 0)
    }
    const head = (await cliJson<StoreJson>(scratch, writerRepo, ['store', 'status', other.id])).head?.['/'] as string
    const pinned = await cliJson<{ blocks: number; fetched: number }>(scratch, readerRepo, ['pin', 'add', head])
    assert.ok(pinned.blocks >= 5, `a commit, a tree node and three values: ${pinned.blocks}`)
    assert.equal(pinned.fetched, pinned.blocks)
    const pins = await cliJson<{ cid: { '/': string }; type: string }[]>(scratch, readerRepo, ['pin', 'ls'])
    assert.ok(pins.some((p) => p.cid['/'] === head && p.type === 'recursive'))
    const verify = await cliJson<{ ok: boolean; blocks: number }>(scratch, readerRepo, ['pin', 'verify'])
    assert.equal(verify.ok, true)
  })

  it('loses no acknowledged write when killed with SIGKILL mid-stream, and restarts on the same repo', async () => {
    const repo = await scratch.dir()
    const first = await DaemonProcess.start(scratch, repo)
    const { api } = await first.ready
    const client = await apiClient(repo, api)
    const acknowledged: number[] = []
    let stop = false
    const writers = Array.from({ length: 8 }, async (_, lane) => {
      for (let i = lane; !stop; i += 8) {
        try {
          await client.put({ store: 'demo', key: `k${String(i).padStart(5, '0')}`, value: i })
          acknowledged.push(i)
        } catch {
          return // the daemon is gone
        }
      }
    })
    await eventually('some writes are acknowledged', async () => (acknowledged.length >= 50 ? true : undefined))
    first.child.kill('SIGKILL')
    stop = true
    await Promise.all(writers)
    await first.exited

    const second = await DaemonProcess.start(scratch, repo)
    const keys = await cli(scratch, repo, ['keys', 'demo', '--prefix', 'k', '--json'])
    assert.equal(keys.code, EXIT.ok, keys.stderr)
    const present = new Set(
      keys.stdout
        .trim()
        .split('\n')
        .map((line) => Number((JSON.parse(line) as { key: string }).key.slice(1))),
    )
    const lost = acknowledged.filter((i) => !present.has(i))
    assert.deepEqual(lost, [], `${acknowledged.length} acknowledged writes all survived`)
    const verify = await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])
    assert.equal(verify.ok, true, 'no block is missing after the crash')
    await second.stop()
  })
})

describe('dagsync CLI without a daemon', () => {
  it('pins, verifies, collects garbage and round-trips CAR files on the repo directly', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init', '--no-demo'])).code, EXIT.ok)
    const again = await cli(scratch, repo, ['init'])
    assert.equal(again.code, EXIT.failure)
    assert.match(again.stderr, /already exists/)

    const store = await cliJson<StoreJson>(scratch, repo, ['store', 'create', '--name', 'notes'])
    assert.equal(store.role, 'writer')
    for (let i = 0; i < 10; i++)
      assert.equal(
        (await cli(scratch, repo, ['put', 'notes', `n${i}`, JSON.stringify({ i, pad: 'p'.repeat(300) })])).code,
        0,
      )
    const binary = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251)
    const file = join(await scratch.dir(), 'blob.bin')
    await writeFile(file, binary)
    assert.equal((await cli(scratch, repo, ['put', 'notes', 'blob', '--file', file])).code, EXIT.ok)
    const out = join(await scratch.dir(), 'blob.out')
    assert.equal((await cli(scratch, repo, ['get', 'notes', 'blob', '-o', out])).code, EXIT.ok)
    assert.deepEqual(new Uint8Array(await readFile(out)), binary)

    // A whole-store CAR holds every block once, each matching its CID, rooted at the head.
    const dir = await scratch.dir()
    const full = join(dir, 'full.car')
    assert.equal((await cli(scratch, repo, ['car', 'export', 'notes', '-o', full])).code, EXIT.ok)
    const car = await readCar(await readFile(full))
    const status = await cliJson<StoreJson & { seq: number }>(scratch, repo, ['store', 'status', 'notes'])
    assert.deepEqual(car.roots, [status.head?.['/']])
    assert.ok(car.blocks.size > 5)

    // --since: only the blocks new since commit 10, which the full CAR contains too.
    const delta = join(dir, 'delta.car')
    assert.equal((await cli(scratch, repo, ['car', 'export', 'notes', '--since', 'notes@10', '-o', delta])).code, 0)
    const small = await readCar(await readFile(delta))
    assert.ok(small.blocks.size < car.blocks.size, `${small.blocks.size} < ${car.blocks.size}`)
    for (const cid of small.blocks.keys()) assert.ok(car.blocks.has(cid))

    // Into a fresh repo: the full CAR imports and pins its root, which verifies.
    const other = await scratch.dir()
    assert.equal((await cli(scratch, other, ['init', '--no-demo'])).code, EXIT.ok)
    const imported = await cliJson<{ blocks: number; pinned: boolean }>(scratch, other, ['car', 'import', full])
    assert.equal(imported.blocks, car.blocks.size)
    assert.equal(imported.pinned, true)
    assert.equal((await cliJson<{ ok: boolean }>(scratch, other, ['pin', 'verify'])).ok, true)
    const exported = join(dir, 'again.car')
    assert.equal((await cli(scratch, other, ['car', 'export', status.head?.['/'] as string, '-o', exported])).code, 0)
    assert.deepEqual([...(await readCar(await readFile(exported))).blocks.keys()].sort(), [...car.blocks.keys()].sort())

    // A corrupt CAR (one byte of a block flipped) is refused and changes nothing.
    const third = await scratch.dir()
    assert.equal((await cli(scratch, third, ['init', '--no-demo'])).code, EXIT.ok)
    const bytes = new Uint8Array(await readFile(full))
    bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff
    const corrupt = join(dir, 'corrupt.car')
    await writeFile(corrupt, bytes)
    const refused = await cli(scratch, third, ['car', 'import', corrupt])
    assert.equal(refused.code, EXIT.usage, refused.stderr)
    assert.match(refused.stderr, /hash|does not match/i)
    assert.deepEqual(await cliJson(scratch, third, ['pin', 'ls']), [])
    // An incomplete DAG (the delta alone) is not imported, pinned or not: the repo holds only whole
    // DAGs. Pinning the head offline then says what is missing.
    for (const args of [[], ['--no-pin']]) {
      const incomplete = await cli(scratch, third, ['car', 'import', delta, ...args])
      assert.equal(incomplete.code, EXIT.usage)
      assert.match(incomplete.stderr, /DAG is incomplete here: \d+ of its blocks link to blocks that are neither/)
      assert.equal((await cliJson<{ ok: boolean }>(scratch, third, ['pin', 'verify'])).ok, true)
    }
    assert.deepEqual(await cliJson(scratch, third, ['pin', 'ls']), [])
    const pinOffline = await cli(scratch, third, ['pin', 'add', status.head?.['/'] as string])
    assert.equal(pinOffline.code, EXIT.unavailable)
    assert.match(pinOffline.stderr, /not available here, and the daemon is not running/)

    // gc keeping only the last commit frees the older versions' blocks; the head stays whole.
    const gc = await cliJson<{ deletedBlocks: number; deletedBytes: number }>(scratch, repo, ['gc', '--keep-last', '1'])
    assert.ok(gc.deletedBlocks > 0 && gc.deletedBytes > 0, JSON.stringify(gc))
    const gcAgain = await cliJson<{ deletedBlocks: number }>(scratch, repo, ['gc', '--keep-last', '1'])
    assert.equal(gcAgain.deletedBlocks, 0)
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
    assert.deepEqual((await cliJson<{ value: { i: number } }>(scratch, repo, ['get', 'notes', 'n7'])).value.i, 7)
    const old = await cli(scratch, repo, ['get', 'notes', 'n7', '--at', '10'])
    assert.equal(old.code, EXIT.notFound, 'a collected version is gone, and says so')
  })

  it('answers bad input with a one-line error and the exit code for it', async () => {
    const repo = await scratch.dir()
    const missing = await cli(scratch, join(repo, 'nothing-here'), ['keys', 'demo'])
    assert.equal(missing.code, EXIT.notFound)
    assert.match(missing.stderr, /no dagsync repo at .* \(run `dagsync init`/)

    assert.equal((await cli(scratch, repo, ['init'])).code, EXIT.ok)
    await cliJson(scratch, repo, ['store', 'create', '--name', 's'])
    const cases: [string[], number, RegExp][] = [
      [['get', 'nope', 'k'], EXIT.notFound, /no store is named "nope"/],
      [['get', 's', 'absent'], EXIT.notFound, /key "absent" is not in store s/],
      [['pin', 'add', 'bafy-not-a-cid'], EXIT.usage, /not a valid CID/],
      [['pin', 'rm', 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'], EXIT.notFound, /is not pinned/],
      [['put', 's', 'k', 'not json'], EXIT.usage, /not JSON.*--string/],
      [['get', 's', 'k', '--at', 'zzz'], EXIT.usage, /neither a commit number nor a CID/],
      [['keys', 's', '--limit', '0'], EXIT.usage, /--limit must be a whole number/],
      [['car', 'import', '/no/such/file.car'], EXIT.usage, /no such file/],
      [['peers'], EXIT.unavailable, /needs the network: start the daemon/],
      [['frobnicate'], EXIT.usage, /unknown command/],
      [['gc', '--keep-since', 'yesterday'], EXIT.usage, /neither a date .* nor a duration/],
    ]
    for (const [args, code, message] of cases) {
      const result = await cli(scratch, repo, args)
      assert.equal(result.code, code, `dagsync ${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message, `dagsync ${args.join(' ')}`)
      assert.equal(result.stdout, '', 'errors go to stderr only')
    }

    // Against a running daemon: a wrong token is refused, and nothing changes.
    const daemon = await DaemonProcess.start(scratch, repo)
    const wrong = await cli(scratch, repo, ['put', 's', 'k', '1'], { env: { DAGSYNC_API_TOKEN: 'wrong' } })
    assert.equal(wrong.code, EXIT.unauthorized)
    assert.match(wrong.stderr, /wrong API token/)
    assert.equal((await cli(scratch, repo, ['get', 's', 'k'])).code, EXIT.notFound)
    const noDaemon = await cli(scratch, repo, ['keys', 's'], { env: { DAGSYNC_API: 'http://127.0.0.1:1' } })
    assert.equal(noDaemon.code, EXIT.unavailable)
    assert.match(noDaemon.stderr, /cannot reach the daemon at http:\/\/127\.0\.0\.1:1/)
    await daemon.stop()
  })
})

describe('dagsync pin remote', () => {
  it('pins a store head on an IPFS Pinning Service and dials the delegates it names', async () => {
    const repo = await scratch.dir()
    const delegateRepo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const delegate = await DaemonProcess.start(scratch, delegateRepo)
    const d = await delegate.ready
    const me = await daemon.ready
    const demo = me.stores.find((s) => s.names.includes('demo'))?.id as string

    const port = await freePort()
    const token = 'secret-token'
    const service = spawn(
      process.execPath,
      [
        '--import',
        join(import.meta.dirname, '..', 'packages', 'peer', 'test', 'loopback-guard.ts'),
        join(import.meta.dirname, 'node_modules', 'mock-ipfs-pinning-service', 'cli.js'),
        '--port',
        String(port),
        '--token',
        token,
        '--loglevel',
        'error',
        '--delegates',
        d.addresses[0] as string,
      ],
      { env: { ...process.env, DAGSYNC_LOOPBACK_LOG: await scratch.guardLog() }, stdio: 'ignore' },
    )
    scratch.defer(async () => service.kill('SIGKILL'))
    const url = `http://127.0.0.1:${port}`
    await eventually('the pinning service listens', async () =>
      (await fetch(url).catch(() => null)) ? true : undefined,
    )

    const remote = ['--service', url, '--token', token]
    // The mock service decides a pin's fate by its name: "pinned-..." pins, "failed-..." fails.
    const added = await cliJson<{ status: string; cid: string; delegates: string[] }>(scratch, repo, [
      'pin',
      'remote',
      'add',
      'demo',
      '--name',
      'pinned-demo',
      ...remote,
    ])
    assert.equal(added.status, 'pinned')
    const head = (await cliJson<StoreJson>(scratch, repo, ['store', 'status', demo])).head?.['/']
    assert.equal(added.cid, head)
    assert.deepEqual(added.delegates, [d.addresses[0]])
    const peers = await cliJson<{ id: string }[]>(scratch, repo, ['peers'])
    assert.ok(
      peers.some((p) => p.id === d.peerId),
      'the daemon dialled the delegate',
    )

    const listed = await cliJson<{ cid: string; name: string; status: string }[]>(scratch, repo, [
      'pin',
      'remote',
      'ls',
      ...remote,
    ])
    assert.deepEqual(
      listed.map((p) => [p.cid, p.name, p.status]),
      [[head, 'pinned-demo', 'pinned']],
    )

    const failed = await cli(scratch, repo, ['pin', 'remote', 'add', 'demo', '--name', 'failed-demo', ...remote])
    assert.equal(failed.code, EXIT.failure)
    assert.match(failed.stderr, /failed to pin/)

    const wrongToken = await cli(scratch, repo, ['pin', 'remote', 'ls', '--service', url, '--token', 'nope'])
    assert.equal(wrongToken.code, EXIT.unauthorized, wrongToken.stderr)
    assert.match(wrongToken.stderr, /refused .* 401/)

    const removed = await cliJson<{ removed: string[] }>(scratch, repo, [
      'pin',
      'remote',
      'rm',
      head as string,
      ...remote,
    ])
    assert.ok(removed.removed.length >= 1)
    const after = await cliJson<unknown[]>(scratch, repo, [
      'pin',
      'remote',
      'ls',
      '--status',
      'queued',
      'pinning',
      'pinned',
      'failed',
      ...remote,
    ])
    assert.deepEqual(after, [])
    assert.ok(CID.parse(head as string))
  })
})
