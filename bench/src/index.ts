// pnpm bench: runs each workload on dagsync and on the libraries users would otherwise pick,
// each library and run in a fresh process, one at a time, and prints medians and ratios.
//   pnpm bench [--suite tree,store] [--keys 100000] [--runs 3] [--subjects a,b,...] [--json]
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SyncReport } from '@dagsync/peer'
import type { BrowserResult } from './run-browser.ts'
import type { ImportBaseline, ImportResult } from './run-import.ts'
import { type CommitBytesResult, STORE_SUBJECTS, type StoreResult } from './run-store.ts'
import { median, SUBJECT_NAMES, type TreeResult } from './run-subject.ts'
import { type PathResult, SYNC_PARTS, type SyncPath, type SyncResult } from './run-sync.ts'

const { values: args } = parseArgs({
  options: {
    suite: { type: 'string', default: 'tree,store,sync,browser,import' },
    'browser-keys': { type: 'string', default: '10000,100000' },
    'sync-parts': { type: 'string', default: SYNC_PARTS.join(',') },
    keys: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    subjects: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (args.help) {
  process.stdout.write(`pnpm bench [--suite tree,store,sync,browser,import] [--keys N] [--runs N] [--subjects a,b,...] [--json]
  tree   the Merkle Search Tree workload (W1-W6), in memory; subjects: ${SUBJECT_NAMES.join(', ')}
  store  commits and reads on disk, a 1,000,000-key store's memory, and what a 100-key commit adds to LevelDB; subjects: ${STORE_SUBJECTS.join(', ')}
  sync   replication between two processes on loopback of a --keys store: catch-up, cold sync, change latency
         (--sync-parts ${SYNC_PARTS.join(',')}: the paths to measure, and latency)
  browser  the web app in Chromium syncing from a daemon, and opening it to its first key cold and warm (--browser-keys 10000,100000)
  import   dagsync import of --keys keys into a daemon, a reader following, against the store's own bulk load
  Each subject and run is a fresh process; tables show medians of the runs.
`)
  process.exit(0)
}

const runs = Number(args.runs)
const suites = args.suite.split(',')
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

/** The 1-minute load average at the start of each child process since the last `loadLine`. */
let childLoads: number[] = []

/** A line naming the machine's load during a table's runs (the machine is shared: see docs/bench.md). */
function loadLine(): string {
  const all = childLoads
  childLoads = []
  if (all.length === 0) return ''
  const f = (v: number) => v.toFixed(1)
  return `Load average (1 min) at the start of its ${all.length} processes: median ${f(median(all))}, ${f(Math.min(...all))}-${f(Math.max(...all))} (${cpus().length} cores).\n`
}

function child<T>(script: string, argv: string[], label: string): T {
  childLoads.push(loadavg()[0] as number)
  process.stderr.write(`${label}... `)
  const started = performance.now()
  const out = execFileSync(process.execPath, ['--expose-gc', here(script), ...argv], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  })
  process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  // JSON has no NaN: a metric a subject does not have comes back as null.
  return JSON.parse(out.trim().split('\n').pop() as string, (_, v) => (v === null ? Number.NaN : v)) as T
}

interface Metric<R> {
  label: string
  /** Higher is better (throughput) or lower (cost); undefined for facts. */
  better?: 'higher' | 'lower'
  get: (r: R) => number | boolean
  format: (v: number) => string
}
const int = (v: number): string => Math.round(v).toLocaleString('en-US')

type Phases = SyncReport['phases']

/** A sync's phases in one cell, "receive / check / write" in whole ms, from a median per phase. */
function phaseCell(median: (phase: keyof Phases) => number): string {
  return (['receive', 'check', 'write'] as const).map((phase) => String(Math.round(median(phase)))).join(' / ')
}
const fixed = (digits: number) => (v: number) => v.toFixed(digits)

function value<R>(rs: R[] | undefined, metric: Metric<R>): number | boolean {
  const values = (rs ?? []).map(metric.get)
  if (values.length === 0) return Number.NaN
  if (typeof values[0] === 'boolean') return values.every((v) => v === values[0]) ? values[0] : Number.NaN
  return median(values as number[])
}

function show<R>(v: number | boolean, metric: Metric<R>): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  return Number.isNaN(v) ? '-' : metric.format(v)
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** Prints the medians table and, against `ours`, how many times better it is than each other subject. */
function report<R extends { subject: string }>(results: Map<string, R[]>, metrics: Metric<R>[], ours: string): void {
  const ids = [...results.keys()]
  const names = ids.map((id) => results.get(id)?.[0]?.subject ?? id)
  process.stdout.write(
    `${table(
      ['', ...names],
      metrics.map((m) => [m.label, ...ids.map((id) => show(value(results.get(id), m), m))]),
    )}\n`,
  )
  const others = ids.filter((id) => id !== ours && !id.startsWith(`${ours}-`) && id !== 'floor')
  if (!results.has(ours) || others.length === 0) return
  const rows = metrics
    .filter((m) => m.better !== undefined)
    .map((m) => {
      const mine = value(results.get(ours), m) as number
      return [
        m.label,
        ...others.map((o) => {
          const theirs = value(results.get(o), m) as number
          if (Number.isNaN(theirs) || Number.isNaN(mine) || mine === 0 || theirs === 0) return '-'
          return `${(m.better === 'higher' ? mine / theirs : theirs / mine).toFixed(2)}x`
        }),
      ]
    })
  process.stdout.write(
    `\nHow many times better ${results.get(ours)?.[0]?.subject} is than each (above 1: better; throughput divided, costs inverted):\n\n` +
      `${table(['', ...others.map((o) => results.get(o)?.[0]?.subject ?? o)], rows)}\n`,
  )
}

const all: Record<string, unknown> = {}
const cpu = cpus()[0]?.model ?? 'unknown CPU'
const machine = `Node ${process.versions.node}, ${cpus().length} x ${cpu}`

if (suites.includes('tree')) {
  const keys = Number(args.keys)
  const subjects = args.subjects?.split(',') ?? SUBJECT_NAMES
  const results = new Map<string, TreeResult[]>()
  for (let run = 1; run <= runs; run++) {
    for (const subject of subjects) {
      const result = child<TreeResult>(
        './run-subject.ts',
        [subject, String(keys)],
        `tree run ${run}/${runs}: ${subject}`,
      )
      results.set(subject, [...(results.get(subject) ?? []), result])
    }
  }
  all.tree = Object.fromEntries(results)
  if (!args.json) {
    process.stdout.write(
      `\nTree workload: ${keys.toLocaleString('en-US')} keys k00000000..., values {n, name, tags}, in memory.\n` +
        `Medians of ${runs} run(s), each library and run in a fresh process; ${machine}.\n${loadLine()}\n`,
    )
    report(
      results,
      [
        { label: 'W1 bulk load (keys/s)', better: 'higher', get: (r) => r.w1KeysPerSec, format: int },
        { label: 'W1 blocks', get: (r) => r.blocks, format: int },
        { label: 'W1 bytes (MiB)', better: 'lower', get: (r) => r.bytes / 2 ** 20, format: fixed(2) },
        { label: 'W1 depth', get: (r) => r.depth ?? Number.NaN, format: int },
        { label: 'W2 random gets (gets/s)', better: 'higher', get: (r) => r.w2GetsPerSec, format: int },
        { label: 'W3 batch of 100 (ms)', better: 'lower', get: (r) => r.w3Ms, format: fixed(1) },
        { label: 'W3 new blocks', better: 'lower', get: (r) => r.w3Blocks, format: int },
        { label: 'W3 new bytes (KiB)', better: 'lower', get: (r) => r.w3Bytes / 1024, format: fixed(1) },
        { label: 'W4 single puts (roots/s)', better: 'higher', get: (r) => r.w4RootsPerSec, format: int },
        { label: 'W5 diff after W3 (ms)', better: 'lower', get: (r) => r.w5Ms, format: fixed(2) },
        {
          label: 'W6 same root, two orders',
          get: (r) => (Number.isNaN(r.w6SameRoot) ? Number.NaN : r.w6SameRoot) as never,
          format: String,
        },
        { label: 'peak RSS (MiB)', better: 'lower', get: (r) => r.peakRssMb, format: int },
      ],
      'dagsync',
    )
    const floors = results.get('floor') ?? []
    if (floors.length > 0) {
      const rates = Object.keys(floors[0]?.floorRates ?? {}).map(
        (part) => `${part} ${int(median(floors.map((f) => f.floorRates?.[part] ?? Number.NaN)))}/s`,
      )
      process.stdout.write(
        `\nThe floor: the fastest encoder plus the fastest hasher of each run (${[...new Set(floors.map((f) => f.floorParts))].join('; ')}).\n` +
          `Each part's rate on its own (values/s, medians): ${rates.join(', ')}.\n`,
      )
    }
  }
}

if (suites.includes('store')) {
  const subjects = args.subjects?.split(',').filter((s) => STORE_SUBJECTS.includes(s)) ?? STORE_SUBJECTS
  const results = new Map<string, StoreResult[]>()
  for (let run = 1; run <= runs; run++) {
    for (const subject of subjects) {
      const result = child<StoreResult>('./run-store.ts', [subject], `store run ${run}/${runs}: ${subject}`)
      results.set(subject, [...(results.get(subject) ?? []), result])
    }
  }
  const million = mkdtempSync(join(tmpdir(), 'dagsync-bench-1m-'))
  const rss: number[] = []
  try {
    child('./run-store.ts', ['build-1m', million], 'store: writing a 1,000,000-key store')
    for (let run = 1; run <= runs; run++) {
      rss.push(
        child<{ peakRssMb: number }>(
          './run-store.ts',
          ['use-1m', million],
          `store run ${run}/${runs}: 1,000,000-key store`,
        ).peakRssMb,
      )
    }
  } finally {
    rmSync(million, { recursive: true, force: true })
  }
  const storeLoad = loadLine()
  const commitBytes: CommitBytesResult[] = []
  for (let run = 1; run <= runs; run++) {
    commitBytes.push(
      child<CommitBytesResult>(
        './run-store.ts',
        ['commit-bytes'],
        `store run ${run}/${runs}: a 100-key commit on disk`,
      ),
    )
  }
  const commitBytesLoad = loadLine()
  all.store = { ...Object.fromEntries(results), millionKeyRssMb: rss, commitBytes }
  if (!args.json) {
    process.stdout.write(
      `\nStore workload, on disk: a store of 10,000 keys, then 2,000 single-key commits from one caller, 10,000 from\n` +
        `100 concurrent callers, 100 commits of 100 keys, and 10,000 random reads (each library's fastest read path:\n` +
        `classic-level's getSync). dagsync and classic-level fsync every commit before it resolves; hyperbee cannot.\n` +
        `Medians of ${runs} run(s); ${machine}.\n${storeLoad}\n`,
    )
    report(
      results,
      [
        { label: 'single-key commits/s, 1 caller', better: 'higher', get: (r) => r.singleCommitsPerSec, format: int },
        {
          label: 'single-key commits/s, 100 callers',
          better: 'higher',
          get: (r) => r.concurrentCommitsPerSec,
          format: int,
        },
        { label: '100-key commits/s', better: 'higher', get: (r) => r.batchCommitsPerSec, format: int },
        { label: '100-key commits: keys/s', better: 'higher', get: (r) => r.batchKeysPerSec, format: int },
        { label: 'random reads/s (fastest path)', better: 'higher', get: (r) => r.readsPerSec, format: int },
        { label: 'the same reads, async get', get: (r) => r.asyncReadsPerSec, format: int },
        { label: 'the tree’s own reads/s, same root', get: (r) => r.treeReadsPerSec, format: int },
        { label: 'peak RSS (MiB)', better: 'lower', get: (r) => r.peakRssMb, format: int },
      ],
      'dagsync',
    )
    process.stdout.write(
      `\nA 1,000,000-key dagsync store (opened, 10,000 random reads, 1,000 commits): peak RSS ${int(median(rss))} MiB (median of ${rss.length}).\n`,
    )
    const kib = (get: (r: CommitBytesResult) => number) => `${(median(commitBytes.map(get)) / 1024).toFixed(1)} KiB`
    process.stdout.write(
      `\nA 100-key commit on a 100,000-key dagsync store on LevelDB, after a full compaction (medians of ${runs} run(s)):\n` +
        `W3's batch adds ${kib((r) => r.w3DiskBytes)} on disk; the median of five batches adds ${kib((r) => r.medianDiskBytes)} ` +
        `for ${kib((r) => r.medianBlockBytes)} of new blocks.\n${commitBytesLoad}`,
    )
  }
}

if (suites.includes('sync')) {
  const keys = Number(args.keys)
  const parts = args['sync-parts'].split(',')
  const results: SyncResult[] = []
  for (let run = 1; run <= runs; run++) {
    results.push(child<SyncResult>('./run-sync.ts', [String(keys), parts.join(',')], `sync run ${run}/${runs}`))
  }
  all.sync = results
  if (!args.json) {
    const m = (get: (r: SyncResult) => number) => median(results.map(get))
    const paths = (['push', 'fast', 'bitswap'] as const).filter((p) => parts.includes(p))
    const path = (r: SyncResult, p: SyncPath): PathResult => {
      const measured = r[p]
      if (measured === undefined) throw new Error(`sync run without ${p}`)
      return measured
    }
    const each = (get: (p: PathResult) => number, show: (v: number) => string) =>
      paths.map((p) => show(m((r) => get(path(r, p)))))
    const kib = (v: number) => `${(v / 1024).toFixed(1)} KiB`
    const ms = (v: number) => `${Math.round(v)} ms`
    process.stdout.write(
      `\nReplication: a writer process with a ${keys.toLocaleString('en-US')}-key store, readers in another, on loopback (WebSocket,\n` +
        `noise, yamux), every block verified, every reader on LevelDB. Catch-up: one commit of 100 random keys\n` +
        `(median of 5 per run). Latency: single-key commits every 100 ms, to the change event at 5 readers.\n` +
        `push: the announcement carries the new blocks; fast path: the reader asks for them; bitswap: neither.\n` +
        `Medians of ${runs} run(s); ${machine}.\n${loadLine()}\n`,
    )
    const phases = (get: (p: PathResult) => Phases) =>
      paths.map((p) => phaseCell((phase) => m((r) => get(path(r, p))[phase])))
    const rows: string[][] = [
      ['catch-up: bytes on the wire', ...each((p) => p.catchUpWireBytes, kib), '<= 40 KiB'],
      ['catch-up: round trips', ...each((p) => p.catchUpRoundTrips, String), '1'],
      ['catch-up: sync time', ...each((p) => p.catchUpMs, ms), '<= 50 ms'],
      ['catch-up: receive / check / write', ...phases((p) => p.catchUpPhases), ''],
      ['catch-up: commit to synced', ...each((p) => p.commitToSyncedMs, ms), ''],
      ['catch-up: blocks written', ...each((p) => p.catchUpBlocks, String), ''],
      [`cold sync of ${keys.toLocaleString('en-US')} keys`, ...each((p) => p.coldMs, ms), '<= 2 s (100,000)'],
      ['cold: receive / check / write', ...phases((p) => p.coldPhases), ''],
      ['cold sync: bytes on the wire', ...each((p) => p.coldWireBytes, kib), ''],
      ['cold sync: of which over bitswap', ...each((p) => p.coldFetchedBytes, kib), ''],
      ['cold sync: a plain stream, same bytes', ...each((p) => p.rawStreamMs, ms), ''],
      [
        'cold sync / plain stream',
        ...each(
          (p) => p.coldToRawStream,
          (v) => `${v.toFixed(1)}x`,
        ),
        '',
      ],
      ['cold sync: path', ...paths.map((p) => [...new Set(results.map((r) => path(r, p).coldPath))].join('/')), ''],
      ["writer's peak RSS (MiB)", ...each((p) => p.writerPeakRssMb, int), ''],
    ]
    const names: Record<SyncPath, string> = { push: 'push', fast: 'fast path', bitswap: 'bitswap (payload)' }
    process.stdout.write(`${table(['', ...paths.map((p) => names[p]), 'target'], rows)}\n`)
    if (parts.includes('latency')) {
      process.stdout.write(
        `\nCommit-to-change-event latency at 5 readers: p50 ${ms(m((r) => r.latencyP50))}, p99 ${ms(m((r) => r.latencyP99))} ` +
          `(${results[0]?.latencySamples ?? 0} events per run; targets p50 <= 20 ms, p99 <= 100 ms).\n`,
      )
    }
  }
}

if (suites.includes('browser')) {
  const sizes = args['browser-keys'].split(',').map(Number)
  const results = new Map<number, BrowserResult[]>()
  for (let run = 1; run <= runs; run++) {
    for (const size of sizes) {
      const result = child<BrowserResult>(
        './run-browser.ts',
        [String(size)],
        `browser run ${run}/${runs}: ${size} keys`,
      )
      results.set(size, [...(results.get(size) ?? []), result])
    }
  }
  all.browser = Object.fromEntries(results)
  if (!args.json) {
    const m = (size: number, get: (r: BrowserResult) => number) => median((results.get(size) ?? []).map(get))
    const s = (v: number) => `${(v / 1000).toFixed(1)} s`
    process.stdout.write(
      `\nBrowser: the web app in Chromium (IndexedDB) following a daemon process on loopback. Medians of ${runs} run(s).\n${loadLine()}\n`,
    )
    const rows = sizes.map((size) => [
      size.toLocaleString('en-US'),
      s(m(size, (r) => r.coldMs)),
      s(m(size, (r) => r.coldSyncMs)),
      `${phaseCell((phase) => m(size, (r) => r.coldPhases[phase]))} ms`,
      `${(m(size, (r) => r.coldWireBytes) / 2 ** 20 / (m(size, (r) => r.coldSyncMs) / 1000)).toFixed(2)} MiB/s`,
      `${Math.round(m(size, (r) => r.catchUpMs))} ms, ${(m(size, (r) => r.catchUpWireBytes) / 1024).toFixed(1)} KiB`,
      `${[...new Set((results.get(size) ?? []).map((r) => r.catchUpPath))].join('/')}: ${phaseCell((phase) => m(size, (r) => r.catchUpPhases[phase]))} ms`,
      `${Math.round(m(size, (r) => r.latencyP50))} / ${Math.round(m(size, (r) => r.latencyP99))} ms`,
    ])
    rows.push(['target', '<= 10 s (100,000)', '<= 1.5 s (100,000)', '', '', '<= 100 ms', '', 'p50 <= 50 ms'])
    process.stdout.write(
      `${table(['keys', 'cold: page to synced', 'cold: sync', 'cold: receive / check / write', 'rate', 'catch-up (100 keys)', 'catch-up: receive / check / write', 'write to screen p50/p99'], rows)}\n`,
    )
    const ms = (v: number) => `${Math.round(v)} ms`
    const kb = (v: number) => `${(v / 1000).toFixed(1)} KB`
    const fromWorker = [...results.values()].flat().every((r) => r.warmFromServiceWorker)
    process.stdout.write(
      `\nOpening the page to its first key on screen (the page's clock, from navigation start)${fromWorker ? '' : '; some warm reloads were NOT served by the service worker'}:\n`,
    )
    process.stdout.write(
      `${table(
        [
          'keys',
          'cold (empty profile: sync first)',
          'warm (service worker, replica in IndexedDB)',
          'JS before the first key, cold',
          'all JS',
          'cold path',
        ],
        [
          ...sizes.map((size) => [
            size.toLocaleString('en-US'),
            ms(m(size, (r) => r.firstKeyColdMs)),
            ms(m(size, (r) => r.firstKeyWarmMs)),
            kb(m(size, (r) => r.firstKeyColdJsGzip)),
            kb(m(size, (r) => r.allJsGzip)),
            [...new Set((results.get(size) ?? []).map((r) => r.coldPath))].join('/'),
          ]),
          ['target', '', '', '<= 150 KB gzipped', '', ''],
        ],
      )}\n`,
    )
  }
}

if (suites.includes('import')) {
  const keys = Number(args.keys)
  const baselines: ImportBaseline[] = []
  const imports: ImportResult[] = []
  const loads: number[] = []
  for (let run = 1; run <= runs; run++) {
    // Each run's two measures back to back, so that their ratio sees the same machine.
    loads.push(loadavg()[0] as number)
    baselines.push(
      child<ImportBaseline>(
        './run-import.ts',
        ['baseline', String(keys)],
        `import run ${run}/${runs}: the store's bulk load`,
      ),
    )
    imports.push(
      child<ImportResult>('./run-import.ts', ['cli', String(keys)], `import run ${run}/${runs}: dagsync import`),
    )
  }
  all.import = { baselines, imports, loads }
  if (!args.json) {
    const m = <R>(rs: R[], get: (r: R) => number) => median(rs.map(get))
    const s = (v: number) => `${(v / 1000).toFixed(2)} s`
    // The median of each run's own ratio: runs on a busy machine differ more than one run's pair.
    const ratio = (get: (b: ImportBaseline) => number) =>
      median(imports.map((r, i) => r.cliMs / get(baselines[i] as ImportBaseline))).toFixed(2)
    process.stdout.write(
      `\nBulk import: ${keys.toLocaleString('en-US')} keys of the tree workload as NDJSON, \`dagsync import\` (the built CLI, a process of its own,\n` +
        `its start included) into a running daemon on LevelDB, with a reader following the store; against the store's own\n` +
        `bulk loads of the same entries. Medians of ${runs} run(s); ${machine}.\n\n`,
    )
    const rows = [
      ['dagsync import into the daemon', s(m(imports, (r) => r.cliMs)), `${m(imports, (r) => r.commits)} commits`],
      [
        'one transaction on LevelDB (the store)',
        s(m(baselines, (r) => r.transactionMs)),
        `import: ${ratio((b) => b.transactionMs)}x its time`,
      ],
      [
        'tree.build in memory (the tree)',
        s(m(baselines, (r) => r.buildMs)),
        `import: ${ratio((b) => b.buildMs)}x its time`,
      ],
      [
        'the reader holds the last commit',
        `+${s(m(imports, (r) => r.readerLagMs))}`,
        `after the import; ${m(imports, (r) => r.readerSyncs)} syncs, the last by ${[...new Set(imports.map((r) => r.readerPath))].join('/')}`,
      ],
    ]
    process.stdout.write(`${table(['', 'time', ''], rows)}\n`)
    process.stdout.write(
      `Ratios are medians of each run's own. Target: the import within 2x the store's bulk load (one transaction on\n` +
        `LevelDB). Load average (1 min) at each run's start: ${loads.map((l) => l.toFixed(1)).join(', ')}.\n`,
    )
  }
}

if (args.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`)
