// Errors and counts as a user reads them, through real `dagsync` processes: an address in use is
// one line naming it and what to change, `pin add` of blocks no peer has exits 5 as docs/cli.md
// says, and counts agree with their nouns ("1 block", "2 blocks").
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

/** A port something else listens on, for as long as the test runs. */
async function busyPort(): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  scratch.defer(() => new Promise((resolve) => server.close(resolve)))
  return (server.address() as { port: number }).port
}

describe('an address in use', () => {
  it('is one line that names the address, the flag and the config key, for peers, the API and the gateway', async () => {
    const port = await busyPort()
    const cases = [
      {
        args: ['--listen', `/ip4/127.0.0.1/tcp/${port}/ws`, '--api-address', '127.0.0.1:0'],
        line: `dagsync: cannot listen for peers on /ip4/127.0.0.1/tcp/${port}/ws: it is in use (another daemon?): pass --listen <multiaddr> to \`dagsync daemon\`, or set "listen" in config.json (\`dagsync config set listen '["/ip4/127.0.0.1/tcp/4012/ws"]'\`)\n`,
      },
      {
        args: ['--listen', '/ip4/127.0.0.1/tcp/0/ws', '--api-address', `/ip4/127.0.0.1/tcp/${port}`],
        line: `dagsync: cannot listen for the HTTP API on 127.0.0.1:${port}: it is in use (another daemon?): pass --api-address <host:port> to \`dagsync daemon\`, or set "api" in config.json (\`dagsync config set api 127.0.0.1:5012\`)\n`,
      },
      {
        args: [
          '--listen',
          '/ip4/127.0.0.1/tcp/0/ws',
          '--api-address',
          '127.0.0.1:0',
          '--gateway-address',
          `127.0.0.1:${port}`,
        ],
        line: `dagsync: cannot listen for the gateway on 127.0.0.1:${port}: it is in use (another daemon?): pass --gateway-address <host:port> to \`dagsync daemon\`, or set "gateway" in config.json (\`dagsync config set gateway 127.0.0.1:8081\`)\n`,
      },
    ]
    for (const { args, line } of cases) {
      const repo = await scratch.dir()
      const result = await cli(scratch, repo, ['daemon', '--log-level', 'error', ...args])
      assert.equal(result.code, 5, result.stderr)
      assert.equal(result.stderr, line)
      // The repo is free again: the next command works on it directly.
      assert.equal((await cli(scratch, repo, ['store', 'ls'])).code, 0)
    }
  })
})

describe("the daemon's flags", () => {
  it('a bad --api-address, --listen or --gateway-address is named as the flag, with exit 2, before anything starts', async () => {
    const repo = await scratch.dir()
    const api = await cli(scratch, repo, ['daemon', '--api-address', '10.0.0.1:5011'])
    assert.equal(api.code, 2)
    assert.match(api.stderr, /^dagsync: --api-address: API address "10\.0\.0\.1:5011" must be a loopback host and port/)
    const listen = await cli(scratch, repo, ['daemon', '--listen', 'not-a-multiaddr'])
    assert.equal(listen.code, 2)
    assert.match(listen.stderr, /^dagsync: --listen: "listen\[0\]" is not a multiaddr: not-a-multiaddr/)
    const gateway = await cli(scratch, repo, ['daemon', '--gateway-address', 'nowhere'])
    assert.equal(gateway.code, 2)
    assert.match(gateway.stderr, /^dagsync: --gateway-address: gateway address "nowhere" must be a host and port/)
  })
})

describe('exit codes', () => {
  it('pin add of a block no peer has exits 5 (unavailable), naming the block, and pins nothing', async () => {
    const repo = await scratch.dir()
    await DaemonProcess.start(scratch, repo)
    const absent = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    const result = await cli(scratch, repo, ['pin', 'add', absent])
    assert.equal(result.code, 5, result.stderr)
    assert.equal(
      result.stderr,
      `dagsync: 1 block of ${absent} is not available here or from any peer (first: ${absent}); nothing was pinned\n`,
    )
    const pins = await cliJson<{ type: string }[]>(scratch, repo, ['pin', 'ls'])
    assert.deepEqual(
      pins.filter((p) => p.type === 'recursive'),
      [],
    )
  })
})

describe('a closed pipe', () => {
  it('ends the command quietly with exit 0, as `dagsync ... | head -1` does', async () => {
    const repo = await scratch.dir()
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', 'apps', 'cli', 'src', 'bin.ts'), '--repo', repo, '--help'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    child.stdout.destroy() // the reader is gone before anything is written
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const code = await new Promise((resolve) => child.on('exit', resolve))
    assert.equal(stderr, '')
    assert.equal(code, 0)
  })
})

describe('counts', () => {
  it('say "1 block" and "2 blocks"', async () => {
    const repo = await scratch.dir()
    assert.equal((await cli(scratch, repo, ['init', '--no-demo'])).code, 0)
    await cliJson(scratch, repo, ['store', 'create', '--name', 's'])
    assert.equal((await cli(scratch, repo, ['put', 's', 'k', '1'])).code, 0)
    // The store's head: its commit and one tree node.
    const verify = await cli(scratch, repo, ['pin', 'verify'])
    assert.match(verify.stdout, /^ok +\S+ {2}s {2}2 blocks$/m)
    assert.match(verify.stdout, /^2 blocks, \d+ B checked: all good$/m)

    // The tree node alone is a DAG of one block.
    const commit = await cliJson<{ tree: { '/': string } }>(scratch, repo, ['log', 's'])
    const car = join(await scratch.dir(), 'tree.car')
    assert.equal((await cli(scratch, repo, ['car', 'export', commit.tree['/'], '-o', car])).code, 0)
    const other = await scratch.dir()
    assert.equal((await cli(scratch, other, ['init', '--no-demo'])).code, 0)
    const imported = await cli(scratch, other, ['car', 'import', car])
    assert.match(imported.stdout, new RegExp(`^imported 1 block, \\d+ B; root ${commit.tree['/']} \\(pinned\\)$`, 'm'))
    const one = await cli(scratch, other, ['pin', 'verify'])
    assert.match(one.stdout, /^1 block, \d+ B checked: all good$/m)
  })
})
