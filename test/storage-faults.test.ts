// The daemon and the CLI when storage fails, with real processes: a database that never finishes
// closing (injected), and a real full disk (a small tmpfs; mounting one needs root, so those
// tests are skipped elsewhere). SIGTERM must end the daemon within its 10 s deadline whatever
// storage does; a full disk must be said to be full; a database that stays failed once space is
// back must make the daemon exit with a message; and no acknowledged write may be lost.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type Api, ApiError, type HttpClient } from '@dagsync/daemon/client'
import { apiClient, cli, cliJson, DaemonProcess, eventually, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

const HANG_DB_CLOSE = join(import.meta.dirname, 'fixtures', 'hang-db-close.ts')

/** Resolves with the daemon's exit and how long it took after `since`, or rejects after `limitMs`. */
async function exitWithin(
  daemon: DaemonProcess,
  since: number,
  limitMs: number,
): Promise<{ code: number | null; ms: number }> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the daemon did not exit within ${limitMs} ms`)), limitMs)
  })
  try {
    const { code } = await Promise.race([daemon.exited, limit])
    return { code, ms: performance.now() - since }
  } finally {
    clearTimeout(timer)
  }
}

async function clientOf(repo: string, daemon: DaemonProcess): Promise<HttpClient> {
  return await apiClient(repo, (await daemon.ready).api)
}

describe('shutdown', () => {
  it('ends within the 10 s deadline, saying where it was stuck, when the database never closes', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo, {}, { imports: [HANG_DB_CLOSE] })
    const api = await clientOf(repo, daemon)
    await api.put({ store: 'demo', key: 'before-stop', value: 1 })
    const signalled = performance.now()
    daemon.child.kill('SIGTERM')
    const { code, ms } = await exitWithin(daemon, signalled, 20_000)
    assert.equal(code, 1)
    assert.ok(ms < 12_000, `exited ${Math.round(ms)} ms after SIGTERM`)
    assert.match(daemon.stderr, /shutdown did not finish within 10 s \(stuck closing the database\)/)
    // The lock went with the process: the CLI opens the repo, and the acknowledged write is there.
    const got = await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'before-stop'])
    assert.equal(got.value, 1)
  })
})

/** A tmpfs of `mib` MiB mounted in a scratch directory, unmounted at the end; undefined if it cannot be mounted. */
async function smallDisk(mib: number): Promise<{ path: string; resize(mib: number): void } | undefined> {
  const path = join(await scratch.dir('dagsync-disk-'), 'disk')
  await mkdir(path)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0700`, 'tmpfs', path], { stdio: 'ignore' })
  } catch {
    return undefined
  }
  scratch.defer(async () => execFileSync('umount', ['-l', path]))
  return {
    path,
    resize: (size) => execFileSync('mount', ['-o', `remount,size=${size}m`, path]),
  }
}

const canMount = process.platform === 'linux' && process.getuid?.() === 0
const noMount = canMount ? false : 'mounting a small tmpfs needs root on Linux'

/**
 * Writes ~900 KB binary values until the disk is full. LevelDB takes them into its log until its
 * 16 MiB write buffer is full; the table it then writes does not fit, and that failure sticks.
 * Returns the acknowledged keys and the error that ended it.
 */
async function fill(api: Api): Promise<{ acknowledged: string[]; error: ApiError }> {
  const acknowledged: string[] = []
  for (let i = 0; i < 60; i++) {
    const key = `fill-${i}`
    const bytes = new Uint8Array(900_000).map(() => Math.floor(Math.random() * 256))
    try {
      await api.putBytes(
        { store: 'demo', key },
        (async function* () {
          yield bytes
        })(),
      )
      acknowledged.push(key)
    } catch (err) {
      return { acknowledged, error: err as ApiError }
    }
  }
  throw new Error('the disk never filled')
}

async function assertAllThere(repo: string, keys: readonly string[]): Promise<void> {
  const listed = await cli(scratch, repo, ['keys', 'demo', '--prefix', 'fill-', '--json'])
  assert.equal(listed.code, 0, listed.stderr)
  const present = new Set(
    listed.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { key: string }).key),
  )
  assert.deepEqual(
    keys.filter((key) => !present.has(key)),
    [],
    'every acknowledged write survived',
  )
  assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
}

describe('a full disk', { skip: noMount }, () => {
  it('fails writes saying the disk is full, then refuses every write, degrades /health, and SIGTERM still ends the daemon in time', async (t) => {
    const disk = await smallDisk(26)
    if (disk === undefined) return t.skip('mount failed')
    const repo = join(disk.path, 'repo')
    const daemon = await DaemonProcess.start(scratch, repo)
    const api = await clientOf(repo, daemon)
    const { acknowledged, error } = await fill(api)
    assert.ok(acknowledged.length > 5, `${acknowledged.length} writes went in first`)
    assert.equal(error.code, 'unavailable', error.message)
    assert.match(error.message, /No space left on device.*the disk holding .* is full: free space on it/)
    // No later write reaches the database, not even a small one that would fit.
    const refused = await api.put({ store: 'demo', key: 'small', value: 1 }).catch((err: ApiError) => err)
    assert.ok(refused instanceof ApiError)
    assert.equal(refused.code, 'unavailable')
    assert.match(refused.message, /takes no more writes after one failed .*start the daemon again/)
    // Nor one outside the stores (a new store's key, in the datastore).
    const created = await api.storeCreate({ name: 'late' }).catch((err: ApiError) => err)
    assert.ok(created instanceof ApiError, 'no store was created')
    assert.match(created.message, /takes no more writes after one failed/)
    const problem = await eventually('/health reports the full disk', async () => {
      const health = await fetch(`${(await daemon.ready).api}/health`)
      return health.status === 503 ? ((await health.json()) as { status: string; problem: string }) : undefined
    })
    assert.equal(problem.status, 'degraded')
    assert.match(problem.problem, /is full: free space on it .*serves reads meanwhile, takes no writes/)
    // Reads still work.
    assert.equal((await api.get({ store: 'demo', key: 'welcome' })).info.type, 'value')

    const signalled = performance.now()
    daemon.child.kill('SIGTERM')
    const { ms } = await exitWithin(daemon, signalled, 20_000)
    assert.ok(ms < 12_000, `exited ${Math.round(ms)} ms after SIGTERM`)
    disk.resize(200)
    const again = await DaemonProcess.start(scratch, repo)
    await assertAllThere(repo, acknowledged)
    assert.deepEqual(await again.stop(), { code: 0, signal: null })
  })

  // 6 MiB: the disk fills while LevelDB appends to its log (a torn record stays in it, and writes
  // taken after it were lost on restart before the gate). 26 MiB: it fills while LevelDB writes a
  // table, a failure LevelDB itself keeps until it is reopened.
  for (const mib of [6, 26])
    it(`full at ${mib} MiB: once there is room again the daemon exits saying to start it again, and then loses nothing`, async (t) => {
      const disk = await smallDisk(mib)
      if (disk === undefined) return t.skip('mount failed')
      const repo = join(disk.path, 'repo')
      const daemon = await DaemonProcess.start(scratch, repo)
      const api = await clientOf(repo, daemon)
      const { acknowledged } = await fill(api)
      await eventually('/health reports the full disk', async () =>
        (await fetch(`${(await daemon.ready).api}/health`)).status === 503 ? true : undefined,
      )
      // Some room, though less than the 64 MiB the daemon waits for: a small write would fit, and
      // LevelDB would take it, behind the torn end of its log. Taken, it would have to survive.
      disk.resize(mib + 32)
      const late = await api.put({ store: 'demo', key: 'fill-late', value: 1 }).then(
        () => true,
        () => false,
      )
      if (late) acknowledged.push('fill-late')
      disk.resize(200)
      const freed = performance.now()
      const { code } = await exitWithin(daemon, freed, 20_000)
      assert.equal(code, 1)
      assert.match(
        daemon.stderr,
        /dagsync: the repo's database takes no more writes after one failed \(IO error: .*No space left on device\), and the disk has room again \(.* free\): start the daemon again to reopen it/,
      )
      const restarted = await DaemonProcess.start(scratch, repo)
      const after = await clientOf(repo, restarted)
      await after.put({ store: 'demo', key: 'after-restart', value: true })
      assert.deepEqual(await restarted.stop(), { code: 0, signal: null })
      await assertAllThere(repo, acknowledged)
      assert.equal((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'after-restart'])).value, true)
      assert.equal(late, false, 'no write is taken after one failed, until the restart')
    })

  it('opening a repo on a full disk says so and what to do', async (t) => {
    const disk = await smallDisk(8)
    if (disk === undefined) return t.skip('mount failed')
    const repo = join(disk.path, 'repo')
    assert.equal((await cli(scratch, repo, ['init'])).code, 0)
    await cliJson(scratch, repo, ['store', 'ls'])
    const filler = join(disk.path, 'filler')
    await writeFile(filler, new Uint8Array(16 * 1024 * 1024)).catch(() => {}) // stops at ENOSPC: the disk is full
    for (const args of [
      ['store', 'ls'],
      ['daemon', '--api-address', '127.0.0.1:0', '--listen', '/ip4/127.0.0.1/tcp/0/ws'],
    ]) {
      const refused = await cli(scratch, repo, args)
      assert.equal(refused.code, 5, refused.stderr)
      assert.match(
        refused.stderr,
        /^dagsync: cannot open the repo .*: the disk holding .* is full: free space on it, then try again\n$/,
      )
    }
    await rm(filler)
    assert.equal((await cli(scratch, repo, ['store', 'ls'])).code, 0)
  })
})

describe('a damaged database', () => {
  it('opening it says it is damaged and what to do', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init'])).code, 0)
    await cliJson(scratch, repo, ['store', 'create', '--name', 's'])
    await writeFile(join(repo, 'data', 'CURRENT'), 'MANIFEST-garbage') // no newline: LevelDB calls it corrupt
    for (const args of [
      ['store', 'ls'],
      ['pin', 'verify'],
    ]) {
      const refused = await cli(scratch, repo, args)
      assert.equal(refused.code, 1, refused.stderr)
      assert.match(
        refused.stderr,
        /^dagsync: cannot open the repo .*: Corruption: .*: the repo's database is damaged: /,
      )
    }
  })
})
