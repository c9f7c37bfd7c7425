// What a Kubo user expects, through real `dagsync` processes: `version`, `config show|get|set`
// checked like `ipfs config`, `--api` as a multiaddr, `log` with authors and one key's history.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { apiToken, cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

const { version } = JSON.parse(
  await readFile(join(import.meta.dirname, '..', 'apps', 'cli', 'package.json'), 'utf8'),
) as { version: string }

describe('dagsync version', () => {
  it('prints the same line as a command and as --version', async () => {
    const repo = await scratch.dir()
    for (const args of [['version'], ['--version'], ['-v']]) {
      const result = await cli(scratch, repo, args)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout, `dagsync version ${version}\n`)
    }
    const json = await cliJson<{ version: string; node: string }>(scratch, repo, ['version'])
    assert.equal(json.version, version)
    assert.equal(json.node, process.versions.node)
  })
})

describe('dagsync config', () => {
  it('gets, sets and shows settings, refusing unknown keys and bad values and leaving the file as it was', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init'])).code, 0)
    const file = join(repo, 'config.json')
    assert.equal((await cli(scratch, repo, ['config', 'get', 'api'])).stdout, '127.0.0.1:5011\n')
    assert.deepEqual(await cliJson(scratch, repo, ['config', 'get', 'gc']), { intervalMinutes: 0, keepLast: null })

    const set = await cli(scratch, repo, ['config', 'set', 'gc.keepLast', '10'])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout, 'gc.keepLast = 10\n')
    assert.equal(set.stderr, '', 'no daemon runs: nothing to restart')
    assert.equal((await cli(scratch, repo, ['config', 'set', 'logLevel', 'debug'])).code, 0)
    assert.equal((await cli(scratch, repo, ['config', 'set', 'api', '/ip4/127.0.0.1/tcp/5099'])).code, 0)
    const written = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    assert.deepEqual(written.gc, { intervalMinutes: 0, keepLast: 10 })
    assert.equal(written.logLevel, 'debug')
    assert.equal(written.api, '/ip4/127.0.0.1/tcp/5099')

    const before = await readFile(file, 'utf8')
    const cases: [string[], number, RegExp][] = [
      [['config', 'set', 'apii', '127.0.0.1:1'], 2, /"apii" is not a setting \(known: listen, api,/],
      [['config', 'set', 'gc.keepLst', '1'], 2, /"gc\.keepLst" is not a setting \(known: intervalMinutes, keepLast\)/],
      [['config', 'set', 'logLevel', 'loud'], 2, /"logLevel" must be one of trace, debug/],
      [['config', 'set', 'api', '10.0.0.1:5011'], 2, /must be a loopback host and port/],
      [['config', 'set', 'announceIntervalMs', '"often"'], 2, /"announceIntervalMs" must be an integer/],
      [['config', 'set', 'demo', 'yes'], 2, /"demo" must be true or false/],
      [['config', 'get', 'nope'], 2, /"nope" is not a setting/],
      [['config', 'get', 'writers.demo'], 3, /config\.json has no writers\.demo/],
    ]
    for (const [args, code, message] of cases) {
      const result = await cli(scratch, repo, args)
      assert.equal(result.code, code, `dagsync ${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, /^dagsync: /)
      assert.match(result.stderr, message, `dagsync ${args.join(' ')}`)
    }
    assert.equal(await readFile(file, 'utf8'), before, 'a refused change leaves config.json as it was')

    // show: everything, defaults filled in, a pinning service's token hidden (get shows it).
    await cliJson(scratch, repo, [
      'config',
      'set',
      'pinningServices',
      '{"mine": {"url": "http://127.0.0.1:1", "token": "s3cret"}}',
    ])
    const shown = await cli(scratch, repo, ['config', 'show'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.doesNotMatch(shown.stdout, /s3cret/)
    assert.equal((JSON.parse(shown.stdout) as { announceIntervalMs: number }).announceIntervalMs, 30000)
    assert.equal((await cli(scratch, repo, ['config', 'get', 'pinningServices.mine.token'])).stdout, 's3cret\n')
  })

  it('says a running daemon must be restarted for a change to take effect', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const set = await cli(scratch, repo, ['config', 'set', 'announceIntervalMs', '1000'])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(
      set.stderr,
      `dagsync: the daemon running on this repo (pid ${daemon.child.pid}) read config.json when it started: restart it for this to take effect\n`,
    )
    const json = await cliJson<{ restartNeeded: boolean }>(scratch, repo, [
      'config',
      'set',
      'announceIntervalMs',
      '2000',
    ])
    assert.equal(json.restartNeeded, true)
  })
})

describe('dagsync --api and log', () => {
  it("reaches a daemon named by a multiaddr or host:port, and shows who wrote each commit and one key's history", async () => {
    const repo = await scratch.dir()
    const other = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const ready = await daemon.ready
    const port = new URL(ready.api).port
    const token = { DAGSYNC_API_TOKEN: await apiToken(repo) }
    // From another (empty) repo, so only --api can lead to the daemon.
    for (const api of [`/ip4/127.0.0.1/tcp/${port}`, `127.0.0.1:${port}`, `/ip4/127.0.0.1/tcp/${port}/http`]) {
      const put = await cli(scratch, other, ['--api', api, 'put', 'demo', 'k', JSON.stringify(api)], { env: token })
      assert.equal(put.code, 0, `--api ${api}: ${put.stderr}`)
    }
    await cli(scratch, repo, ['put', 'demo', 'other', '1'])
    assert.equal((await cli(scratch, repo, ['del', 'demo', 'k'])).code, 0)
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'k', '"back"'])).code, 0)

    const history = await cli(scratch, repo, ['log', 'demo', '--key', 'k'])
    assert.equal(history.code, 0, history.stderr)
    const lines = history.stdout.trim().split('\n')
    assert.deepEqual(
      lines.map((line) => line.trim().split(/\s+/)),
      lines.map((line, i) => {
        const [seq, cid, time] = line.trim().split(/\s+/)
        return [seq, cid, time, ready.peerId, ['added', 'removed', 'changed', 'changed', 'added'][i]]
      }),
    )
    assert.deepEqual(
      lines.map((line) => Number(line.trim().split(/\s+/)[0])),
      [7, 6, 4, 3, 2],
      'commit 5 (other) did not touch k',
    )
    const limited = await cliJson<{ seq: number; change: string }>(scratch, repo, [
      'log',
      'demo',
      '--key',
      'k',
      '--limit',
      '1',
    ])
    assert.deepEqual([limited.seq, limited.change], [7, 'added'])
    // The whole log: every commit with its author; the demo data's has its message and no author.
    const log = (await cli(scratch, repo, ['log', 'demo'])).stdout.trim().split('\n')
    assert.equal(log.length, 7)
    assert.match(log[0] as string, new RegExp(`  ${ready.peerId}$`))
    assert.match(log.at(-1) as string, / {2}- {2}demo data$/)
    assert.equal((await cli(scratch, repo, ['log', 'demo', '--key', 'never-written'])).stdout, '')
  })
})
