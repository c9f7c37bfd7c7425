// CLI latency (issue 14): how long a `dagsync` command takes from the shell's point of view, as
// a user runs it (the ./dagsync script, which runs the built CLI when it is fresh), against a
// running daemon. Baselines: starting node with nothing to do, and the same read with curl.
// Each command runs --runs times after two unmeasured runs; medians are printed. Then how long the
// daemon's /health waits while the API decodes a JSON write just under the 64 KiB limit, per shape.
//   node bench/src/run-cli.ts [--runs 15] [--json]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { MAX_JSON_BODY_BYTES } from '@dagsync/daemon/client'
import { JSON_SHAPES, valueText } from '../../test/fixtures/json-shapes.ts'
import { buildCli } from '../../tools/build-cli.mjs'
import { startBenchDaemon } from './bench-daemon.ts'
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

/** The slowest /health answer while one write runs, asked back to back so that any stall is seen. */
async function slowestHealthDuring(api: string, write: () => Promise<Response>): Promise<number> {
  let writing = true
  let slowest = 0
  const poll = (async () => {
    while (writing) {
      const started = performance.now()
      await (await fetch(`${api}/health`)).json()
      slowest = Math.max(slowest, performance.now() - started)
    }
  })()
  const response = await write()
  if (response.status !== 200) throw new Error(`the write failed (${response.status}): ${await response.text()}`)
  writing = false
  await poll
  return slowest
}

/** Per shape, the median over --runs writes of the slowest /health answer during the write. */
async function healthDuringWrites(api: string, token: string): Promise<Record<string, number>> {
  for (let i = 0; i < 50; i++) await (await fetch(`${api}/health`)).json()
  const result: Record<string, number> = {}
  for (const shape of JSON_SHAPES) {
    const value = valueText(shape, MAX_JSON_BODY_BYTES - 100)
    const slowest: number[] = []
    for (let run = 0; run < runs; run++)
      slowest.push(
        await slowestHealthDuring(api, () =>
          fetch(`${api}/api/v1/put`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: `{"store":"demo","key":"bench/${shape}","value":${value}}`,
          }),
        ),
      )
    result[shape] = median(slowest)
  }
  return result
}

await buildCli()
const repo = mkdtempSync(join(tmpdir(), 'dagsync-bench-cli-'))
const daemon = await startBenchDaemon(repo)
const { url: api, token } = daemon
try {
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
    healthDuringWriteMs: await healthDuringWrites(api, token),
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
    process.stdout.write(
      `slowest /health during a ${MAX_JSON_BODY_BYTES / 1024} KiB JSON write, median of ${runs} writes\n`,
    )
    for (const [shape, ms] of Object.entries(results.healthDuringWriteMs))
      process.stdout.write(`  ${shape.padEnd(42)} ${ms.toFixed(0).padStart(6)} ms\n`)
  }
} finally {
  await daemon.stop()
  rmSync(repo, { recursive: true, force: true })
}
