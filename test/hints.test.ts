// The commands the CLI and the daemon print as hints run as printed, in a shell, from the
// directory they were printed in: `init`'s "then start it with", the daemon's "Try, in another
// terminal", and the demo store's welcome. Without `dagsync` on the PATH they name this checkout's
// script; with it there, plain `dagsync`; for a repo that is not ~/.dagsync, with --repo.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { type CliResult, cli, Scratch } from './cli-helpers.ts'

const root = join(import.meta.dirname, '..')
const scratch = new Scratch()
after(() => scratch.close())

/** Runs a line in sh, as a user would paste it. */
function shell(line: string, cwd: string, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn('sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
}

async function shellRun(line: string, cwd: string, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const child = shell(line, cwd, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)))
  return { code, stdout, stderr }
}

/** The text after `label` on a line of `text`. */
function after_(text: string, label: RegExp): string {
  const match = new RegExp(`${label.source}(.+)$`, 'm').exec(text)
  assert.ok(match, `no line matching ${label} in:\n${text}`)
  return (match[1] as string).trim()
}

describe('hints', () => {
  it('init, the daemon and the demo store print commands that run as printed', async () => {
    const repo = join(await scratch.dir(), 'my repo')
    // Free ports, so the printed `daemon` command can run here beside anything else.
    const init = await cli(
      scratch,
      repo,
      ['init', '--listen', '/ip4/127.0.0.1/tcp/0/ws', '--api-address', '127.0.0.1:0'],
      {
        cwd: root,
      },
    )
    assert.equal(init.code, 0, init.stderr)
    const start = after_(init.stdout, /^then start it with: +/)
    assert.equal(start, `./dagsync --repo '${repo}' daemon`, 'from the checkout: its script, and the repo')

    const daemon = shell(start, root)
    scratch.defer(async () => {
      if (daemon.exitCode === null) process.kill(-(daemon.pid as number), 'SIGKILL')
    })
    let out = ''
    const tryLine = await new Promise<string>((resolve, reject) => {
      daemon.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        const match = /^Try, in another terminal: +(.+)$/m.exec(out)
        if (match) resolve((match[1] as string).trim())
      })
      daemon.once('exit', (code) => reject(new Error(`the daemon exited (${code}): ${out}`)))
    })
    assert.equal(tryLine, `./dagsync --repo '${repo}' keys demo`)

    const keys = await shellRun(tryLine, root)
    assert.equal(keys.code, 0, keys.stderr)
    assert.match(keys.stdout, /^welcome\s+value/m)
    const welcome = await shellRun(`${tryLine.replace(/ keys demo$/, '')} get demo welcome`, root)
    const hint = /Try: (.+ keys demo)"/.exec(welcome.stdout)
    assert.ok(hint, welcome.stdout)
    const again = await shellRun(hint[1] as string, root)
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, keys.stdout)

    process.kill(-(daemon.pid as number), 'SIGTERM')
    await new Promise((resolve) => daemon.once('exit', resolve))
  })

  it('name the checkout script by its path elsewhere, and plain dagsync once it is on the PATH', async () => {
    const repo = await scratch.dir()
    const elsewhere = await scratch.dir()
    const init = await cli(scratch, repo, ['init'], { cwd: elsewhere })
    const hint = after_(init.stdout, /^change settings with: +/).replace(/ config set .*$/, '')
    assert.equal(hint, `${join(root, 'dagsync')} --repo ${repo}`)
    assert.equal((await shellRun(`${hint} config get api`, elsewhere)).stdout, '127.0.0.1:5011\n')

    const bin = join(await scratch.dir(), 'bin')
    await mkdir(bin)
    await symlink(join(root, 'dagsync'), join(bin, 'dagsync'))
    const env = { PATH: `${bin}:${process.env.PATH}` }
    const other = await scratch.dir()
    const linked = await cli(scratch, other, ['init'], { cwd: elsewhere, env })
    const plain = after_(linked.stdout, /^then start it with: +/)
    assert.equal(plain, `dagsync --repo ${other} daemon`)
    const run = await shellRun(plain.replace(/ daemon$/, ' config get api'), elsewhere, { ...process.env, ...env })
    assert.equal(run.stdout, '127.0.0.1:5011\n', run.stderr)
  })
})
