// CLI latency (issue 14): how long a `dagsync` command takes from the shell's point of view, as
// a user runs it (the ./dagsync script, which runs the built CLI when it is fresh), against a
// running daemon. Baselines: starting node with nothing to do, and the same read with curl.
// Each command runs --runs times after two unmeasured runs; medians are printed.
//   node bench/src/run-cli.ts [--runs 15] [--json]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BUNDLE, buildCli } from '../../tools/build-cli.mjs'
import { median } from './run-subject.ts'

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } },
})
const runs = Number(args.runs)
const root = join(import.meta.dirname, '..', '..')
const script = join(root, 'dagsync')

/** Wall time of one run of `command`, which must exit 0. */
function time(command: string, argv: readonly string[]): number {
  const started = performance.now()
  const result = spawnSync(command, argv, { encoding: 'utf8', env: { ...process.env, DAGSYNC_PATH: '' } })
  const ms = performance.now() - started
  if (result.status !== 0) throw new Error(`${command} ${argv.join(' ')} exited ${result.status}: ${result.stderr}`)
  return ms
}

function measure(command: string, argv: readonly string[]): { medianMs: number; minMs: number; maxMs: number } {
  for (let i = 0; i < 2; i++) time(command, argv)
  const times = Array.from({ length: runs }, () => time(command, argv))
  return { medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) }
}

async function startDaemon(repo: string): Promise<{ child: ChildProcess; api: string }> {
  const child = spawn(
    process.execPath,
    [
      ...[BUNDLE, '--repo', repo, 'daemon', '--json', '--log-level', 'warn'],
      ...['--listen', '/ip4/127.0.0.1/tcp/0/ws', '--api-address', '127.0.0.1:0'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const ready = await new Promise<{ api: string }>((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))) as { api: string })
    })
    child.once('exit', (code) => reject(new Error(`the daemon exited (${code}) before it was ready`)))
  })
  return { child, api: ready.api }
}

await buildCli()
const repo = mkdtempSync(join(tmpdir(), 'dagsync-bench-cli-'))
const { child, api } = await startDaemon(repo)
try {
  const token = readFileSync(join(repo, 'api-token'), 'utf8').trim()
  const results = {
    load: loadavg()[0] as number,
    runs,
    nodeStartMs: measure(process.execPath, ['-e', '0']),
    versionMs: measure(script, ['--version']),
    getMs: measure(script, ['--repo', repo, 'get', 'demo', 'welcome']),
    putMs: measure(script, ['--repo', repo, 'put', 'demo', 'bench/key', '1']),
    curlGetMs: measure('curl', [
      ...['-sf', '-o', '/dev/null', '-H', `authorization: Bearer ${token}`],
      ...['--data', '{"store":"demo","key":"welcome"}', `${api}/api/v1/get`],
    ]),
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results)}\n`)
  else {
    // On a loaded machine node's own start moves most: the time above it is the CLI's part.
    const row = (label: string, r: { medianMs: number; minMs: number; maxMs: number }) =>
      process.stdout.write(
        `${label.padEnd(44)} ${r.medianMs.toFixed(0).padStart(6)} ms   (min ${r.minMs.toFixed(0)}, max ${r.maxMs.toFixed(0)}; ${(r.medianMs - results.nodeStartMs.medianMs).toFixed(0)} ms above node's start)\n`,
      )
    process.stdout.write(`CLI latency, median of ${runs} runs (load average ${results.load.toFixed(1)})\n`)
    row('node -e 0 (starting node, nothing else)', results.nodeStartMs)
    row('./dagsync --version', results.versionMs)
    row('./dagsync get demo welcome (daemon running)', results.getMs)
    row('./dagsync put demo bench/key 1 (a commit)', results.putMs)
    row('curl POST /api/v1/get (the same read)', results.curlGetMs)
  }
} finally {
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  rmSync(repo, { recursive: true, force: true })
}
