// The repo on disk as other local users would see it: its database holds private keys and its
// api-token the API's secret, so the directory and everything in it must be private to the
// owner (directories 0700, files 0600), for new repos, for files LevelDB creates while it runs,
// and for repos made before this rule, which are fixed when they are opened.
import assert from 'node:assert/strict'
import { chmod, lstat, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { apiClient, cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

/** Every path under `root` (itself included) with its permission bits. */
async function modes(root: string): Promise<Map<string, { mode: number; dir: boolean }>> {
  const out = new Map<string, { mode: number; dir: boolean }>()
  const visit = async (path: string) => {
    const stat = await lstat(path)
    out.set(path, { mode: stat.mode & 0o777, dir: stat.isDirectory() })
    if (stat.isDirectory()) for (const entry of await readdir(path)) await visit(join(path, entry))
  }
  await visit(root)
  return out
}

/** The paths that are not private: directories other than 0700, files other than 0600. */
async function notPrivate(root: string): Promise<string[]> {
  return [...(await modes(root))]
    .filter(([, { mode, dir }]) => mode !== (dir ? 0o700 : 0o600))
    .map(([path, { mode }]) => `${path} ${mode.toString(8)}`)
}

describe('repo files', { skip: process.platform === 'win32' ? 'no POSIX modes' : false }, () => {
  it('are private from the start, and stay so as the daemon and the CLI write', async () => {
    const repo = join(await scratch.dir(), 'repo')
    const daemon = await DaemonProcess.start(scratch, repo)
    const api = await apiClient(repo, (await daemon.ready).api)
    for (let i = 0; i < 50; i++) await api.put({ store: 'demo', key: `k${i}`, value: 'v'.repeat(400) })
    assert.deepEqual(await daemon.stop(), { code: 0, signal: null })
    // The CLI on the repo directly: LevelDB replays its log into new files as it opens.
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'direct', '1'])).code, 0)
    const files = await modes(repo)
    for (const name of ['api-token', 'config.json', 'data/CURRENT', 'data/LOCK']) assert.ok(files.has(join(repo, name)))
    assert.ok(
      [...files.keys()].some((path) => /\.(ldb|log)$/.test(path)),
      'LevelDB wrote tables or logs',
    )
    assert.deepEqual(await notPrivate(repo), [])
  })

  it('that cannot be read are errors that say so, not a missing repo', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init', '--no-demo'])).code, 0)
    await rm(join(repo, 'config.json'))
    await mkdir(join(repo, 'config.json')) // there, but not readable as a file
    const result = await cli(scratch, repo, ['store', 'ls'])
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /^dagsync: cannot read .*config\.json: EISDIR/)
  })

  it('of a repo made before are made private when the CLI or the daemon opens it, with a warning', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init', '--no-demo'])).code, 0)
    await cliJson(scratch, repo, ['store', 'create', '--name', 's'])
    const loosen = async () => {
      for (const [path, { dir }] of await modes(repo)) await chmod(path, dir ? 0o755 : 0o644)
      assert.ok((await notPrivate(repo)).length > 5, 'the repo is open to other users')
    }

    await loosen()
    const listed = await cli(scratch, repo, ['store', 'ls'])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stderr, /warning: \d+ files and directories of the repo .* were readable by other users/)
    assert.deepEqual(await notPrivate(repo), [])
    const again = await cli(scratch, repo, ['store', 'ls'])
    assert.equal(again.stderr, '', 'nothing left to fix, nothing said')

    await loosen()
    const daemon = await DaemonProcess.start(scratch, repo)
    assert.deepEqual(await notPrivate(repo), [])
    await daemon.stop()
    assert.match(daemon.stderr, /the repo was readable by other users .*made it private/)
  })
})
