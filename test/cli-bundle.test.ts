// The built CLI (tools/build-cli.mjs), as `./dagsync` runs it: one file that holds neither the
// daemon nor the libp2p stack nor LevelDB (commands that need them load them when they run), and
// that runs every kind of command: against a daemon, on a repo directly, and the daemon itself.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { BUNDLE, buildCli } from '../tools/build-cli.mjs'
import { DaemonProcess, Scratch } from './cli-helpers.ts'

const run = promisify(execFile)
const scratch = new Scratch()
after(() => scratch.close())
before(() => buildCli())

async function bundle(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BUNDLE, ...args], {
      env: { ...process.env, DAGSYNC_PATH: '' },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('the built CLI', () => {
  it('holds none of the daemon, libp2p, helia, LevelDB or the logger', async () => {
    const metafile = (await buildCli({ outfile: join(await scratch.dir(), 'dagsync.cjs'), metafile: true })) as {
      inputs: Record<string, unknown>
    }
    const inputs = Object.keys(metafile.inputs)
    assert.ok(
      inputs.some((path) => path.includes('commander')),
      'the search sees bundled packages',
    )
    const heavy = inputs.filter((path) =>
      /libp2p|helia|level|pino|hono|prom-client|apps\/daemon\/src\/(local-api|repo|daemon)\.ts/.test(path),
    )
    assert.deepEqual(heavy, [])
  })

  it('runs commands against a daemon and on a repo directly, and runs the daemon', async () => {
    const version = await bundle(['--version'])
    const { version: v } = JSON.parse(
      await readFile(join(import.meta.dirname, '..', 'apps', 'cli', 'package.json'), 'utf8'),
    ) as { version: string }
    assert.equal(version.stdout, `dagsync version ${v}\n`)

    const repo = await scratch.dir()
    await DaemonProcess.start(scratch, repo)
    assert.equal((await bundle(['--repo', repo, 'put', 'demo', 'k', '{"a": 1}'])).code, 0)
    assert.equal((await bundle(['--repo', repo, 'get', 'demo', 'k', '--path', 'a'])).stdout, '1\n')
    const missing = await bundle(['--repo', repo, 'get', 'demo', 'nope'])
    assert.equal(missing.code, 3)
    assert.equal(missing.stderr, 'dagsync: key "nope" is not in store demo\n')

    // No daemon: the repo's database and the store code load on demand.
    const offline = await scratch.dir()
    assert.equal((await bundle(['--repo', offline, 'init', '--no-demo'])).code, 0)
    assert.equal((await bundle(['--repo', offline, 'store', 'create', '--name', 's'])).code, 0)
    assert.equal((await bundle(['--repo', offline, 'put', 's', 'k', '2'])).code, 0)
    assert.equal((await bundle(['--repo', offline, 'get', 's', 'k'])).stdout, '2\n')
    assert.equal((await bundle(['--repo', offline, 'config', 'get', 'demo'])).stdout, 'false\n')

    // The daemon: libp2p and the HTTP server load on demand.
    const daemon = spawn(
      process.execPath,
      [
        BUNDLE,
        '--repo',
        offline,
        'daemon',
        '--json',
        '--listen',
        '/ip4/127.0.0.1/tcp/0/ws',
        '--api-address',
        '127.0.0.1:0',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    scratch.defer(async () => daemon.kill('SIGKILL'))
    const ready = await new Promise<{ event: string; stores: { names: string[] }[] }>((resolve, reject) => {
      let out = ''
      daemon.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))))
      })
      daemon.once('exit', (code) => reject(new Error(`the daemon exited (${code})`)))
    })
    assert.equal(ready.event, 'ready')
    assert.deepEqual(
      ready.stores.map((s) => s.names),
      [['s']],
    )
    assert.equal((await bundle(['--repo', offline, 'get', 's', 'k'])).stdout, '2\n')
    daemon.kill('SIGTERM')
    assert.equal(await new Promise((resolve) => daemon.once('exit', resolve)), 0)
  })
})
