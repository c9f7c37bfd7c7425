// A daemon process for the benchmarks: the built CLI's `dagsync daemon` on a repo, on free
// loopback ports, ready once it prints its JSON line (its API's URL and its dial addresses).
import { type ChildProcess, spawn } from 'node:child_process'
import { HttpClient } from '@dagsync/daemon/client'
import { readToken } from '@dagsync/daemon/repo'
import { BUNDLE } from '../../tools/build-cli.mjs'

export interface BenchDaemon {
  readonly process: ChildProcess
  /** The API's URL, the repo's API token, and a client of the API with it. */
  readonly url: string
  readonly token: string
  readonly api: HttpClient
  /** Its first dial address (`/ip4/127.0.0.1/tcp/…/ws/p2p/…`). */
  readonly address: string
  /** Stops it with SIGTERM (if it still runs) and waits for it to exit. */
  stop(): Promise<void>
}

/** Starts a daemon on `repo` (the CLI must be built: `buildCli()`). */
export async function startBenchDaemon(repo: string): Promise<BenchDaemon> {
  const child = spawn(
    process.execPath,
    [
      ...[BUNDLE, '--repo', repo, 'daemon', '--json', '--log-level', 'warn'],
      ...['--listen', '/ip4/127.0.0.1/tcp/0/ws', '--api-address', '127.0.0.1:0'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const ready = await new Promise<{ api: string; addresses: string[] }>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))))
    })
    child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it was ready`)))
  })
  const token = await readToken(repo)
  return {
    process: child,
    url: ready.api,
    token,
    api: new HttpClient({ url: ready.api, token }),
    address: ready.addresses[0] as string,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
