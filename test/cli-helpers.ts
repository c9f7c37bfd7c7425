// Runs the real `dagsync` CLI and daemon as child processes, each with the loopback guard loaded
// (`node --import`), so nothing they do can leave 127.0.0.1; what a child refused is logged to a
// file that `assertStayedOnLoopback` checks.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HttpClient } from '@dagsync/daemon/client'

const BIN = join(import.meta.dirname, '..', 'apps', 'cli', 'src', 'bin.ts')
const GUARD = join(import.meta.dirname, '..', 'packages', 'peer', 'test', 'loopback-guard.ts')

export class Scratch {
  readonly #cleanup: (() => Promise<unknown>)[] = []
  readonly #dirs: string[] = []
  #guardLog: string | undefined

  async dir(prefix = 'dagsync-cli-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.#dirs.push(dir)
    return dir
  }

  async guardLog(): Promise<string> {
    this.#guardLog ??= join(await this.dir('dagsync-guard-'), 'violations.log')
    return this.#guardLog
  }

  defer(fn: () => Promise<unknown>): void {
    this.#cleanup.push(fn)
  }

  /** Stops what is still running, checks no child left loopback, removes the directories. */
  async close(): Promise<void> {
    for (const fn of this.#cleanup.reverse()) await fn().catch(() => {})
    if (this.#guardLog !== undefined && existsSync(this.#guardLog))
      assert.fail(`a child process tried to leave loopback:\n${readFileSync(this.#guardLog, 'utf8')}`)
    for (const dir of this.#dirs) await rm(dir, { recursive: true, force: true })
  }
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

async function nodeArgs(scratch: Scratch): Promise<{ args: string[]; env: NodeJS.ProcessEnv }> {
  return {
    args: ['--import', GUARD, BIN],
    env: {
      ...process.env,
      DAGSYNC_LOOPBACK_LOG: await scratch.guardLog(),
      DAGSYNC_PATH: undefined,
      DAGSYNC_API: undefined,
      FORCE_COLOR: '0',
    },
  }
}

/** Runs `dagsync --repo <repo> <args>` to completion. */
export async function cli(
  scratch: Scratch,
  repo: string,
  args: readonly string[],
  options: { input?: Uint8Array | string; env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  const { args: prefix, env } = await nodeArgs(scratch)
  const child = spawn(process.execPath, [...prefix, '--repo', repo, ...args], {
    env: { ...env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => stdout.push(d))
  child.stderr.on('data', (d: Buffer) => stderr.push(d))
  child.stdin.end(options.input)
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1))))
  return { code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() }
}

/**
 * Runs `dagsync --repo <repo> <args>` on a terminal (util-linux's `script` gives it one), for what
 * the CLI only shows on a terminal (progress bars). `output` is what the terminal showed.
 */
export async function cliOnTty(
  scratch: Scratch,
  repo: string,
  args: readonly string[],
): Promise<{ code: number; output: string }> {
  const { args: prefix, env } = await nodeArgs(scratch)
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`
  const command = [process.execPath, ...prefix, '--repo', repo, ...args].map(quote).join(' ')
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => output.push(d))
  child.stderr.on('data', (d: Buffer) => output.push(d))
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1))))
  return { code, output: Buffer.concat(output).toString() }
}

/** Runs a CLI command that must succeed and returns its --json output parsed (DAG-JSON as plain JSON). */
export async function cliJson<T = unknown>(scratch: Scratch, repo: string, args: readonly string[]): Promise<T> {
  const result = await cli(scratch, repo, [...args, '--json'])
  assert.equal(result.code, 0, `dagsync ${args.join(' ')} failed (${result.code}): ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

export interface ReadyLine {
  readonly peerId: string
  readonly addresses: string[]
  readonly api: string
  /** The trustless gateway's URL, when it was started with one. */
  readonly gateway?: string
  readonly stores: { id: string; names: string[]; role: string; seq: number }[]
}

/** A `dagsync daemon` process on loopback with free ports. */
export class DaemonProcess {
  readonly child: ChildProcess
  readonly ready: Promise<ReadyLine>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stderr = ''

  private constructor(child: ChildProcess) {
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString()
    })
    this.ready = new Promise((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        const end = out.indexOf('\n')
        if (end >= 0) resolve(JSON.parse(out.slice(0, end)) as ReadyLine)
      })
      this.exited.then(({ code }) =>
        reject(new Error(`the daemon exited (${code}) before it was ready: ${this.stderr}`)),
      )
    })
  }

  /**
   * Starts a daemon on free ports, or on the ports given (to restart one where a page expects it).
   * `imports` are modules loaded into it first (`node --import`), e.g. to inject faults; `listen`
   * replaces the one /ws address on `ports.ws`; `env` adds to its environment; `args` are more
   * `daemon` flags (`--gateway-address 127.0.0.1:0`).
   */
  static async start(
    scratch: Scratch,
    repo: string,
    ports: { ws?: number; api?: number } = {},
    options: {
      imports?: readonly string[]
      listen?: readonly string[]
      env?: Record<string, string>
      args?: readonly string[]
    } = {},
  ): Promise<DaemonProcess> {
    const { args, env } = await nodeArgs(scratch)
    const child = spawn(
      process.execPath,
      [
        ...(options.imports ?? []).flatMap((path) => ['--import', path]),
        ...args,
        '--repo',
        repo,
        'daemon',
        '--json',
        '--listen',
        ...(options.listen ?? [`/ip4/127.0.0.1/tcp/${ports.ws ?? 0}/ws`]),
        '--api-address',
        `127.0.0.1:${ports.api ?? 0}`,
        '--log-level',
        'warn',
        ...(options.args ?? []),
      ],
      { env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const daemon = new DaemonProcess(child)
    scratch.defer(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await daemon.exited
      }
    })
    await daemon.ready
    return daemon
  }

  /** Stops it with a signal and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(signal)
    return this.exited
  }
}

/** The API token the daemon keeps in `repo` (calls that change state need it). */
export async function apiToken(repo: string): Promise<string> {
  return (await readFile(join(repo, 'api-token'), 'utf8')).trim()
}

/** An API client of the daemon at `url` that runs on `repo`, with its token. */
export async function apiClient(repo: string, url: string): Promise<HttpClient> {
  return new HttpClient({ url, token: await apiToken(repo) })
}

/**
 * A daemon on a new repo, for the tests of a file to share: its repo, its API's URL and token.
 */
export async function startDaemonRepo(scratch: Scratch): Promise<{ repo: string; api: string; token: string }> {
  const repo = await scratch.dir()
  const daemon = await DaemonProcess.start(scratch, repo)
  return { repo, api: (await daemon.ready).api, token: await apiToken(repo) }
}

/** A loopback port nothing listens on (for a daemon that must come back on the same one). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Serves `server` on a free loopback port until `scratch` closes; returns its URL. */
export async function listenOnLoopback(scratch: Scratch, server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  scratch.defer(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`
}

/** Polls `check` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last})` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
