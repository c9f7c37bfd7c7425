// pnpm bench: runs the tree workload on dagsync and on the libraries users would otherwise pick,
// each library and run in a fresh process, one at a time, and prints medians and ratios.
//   pnpm bench [--keys 100000] [--runs 3] [--subjects dagsync,prolly-trees,...] [--json]
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median, SUBJECT_NAMES, type TreeResult } from './run-subject.ts'

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    subjects: { type: 'string', default: SUBJECT_NAMES.join(',') },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (args.help) {
  process.stdout.write(`pnpm bench [--keys N] [--runs N] [--subjects a,b,...] [--json]
  Runs the tree workload (W1-W6) on each subject, each run in a fresh process, and prints medians.
  Subjects: ${SUBJECT_NAMES.join(', ')}
`)
  process.exit(0)
}

const keys = Number(args.keys)
const runs = Number(args.runs)
const subjects = args.subjects.split(',').filter((s) => s !== '')
const runner = fileURLToPath(new URL('./run-subject.ts', import.meta.url))

const results = new Map<string, TreeResult[]>()
for (let run = 1; run <= runs; run++) {
  for (const subject of subjects) {
    process.stderr.write(`run ${run}/${runs}: ${subject} (${keys} keys)... `)
    const started = performance.now()
    const out = execFileSync(process.execPath, [runner, subject, String(keys)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    })
    // JSON has no NaN: a metric a subject does not have comes back as null.
    const result = JSON.parse(out.trim().split('\n').pop() as string, (_, v) =>
      v === null ? Number.NaN : v,
    ) as TreeResult
    process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1)} s\n`)
    results.set(subject, [...(results.get(subject) ?? []), result])
  }
}

type Metric = {
  label: string
  /** Higher is better (throughput), or lower is better (cost); undefined for facts without a direction. */
  better?: 'higher' | 'lower'
  get: (r: TreeResult) => number | boolean | null
  format: (v: number) => string
}
const int = (v: number): string => Math.round(v).toLocaleString('en-US')
const fixed = (digits: number) => (v: number) => v.toFixed(digits)
const metrics: Metric[] = [
  { label: 'W1 bulk load (keys/s)', better: 'higher', get: (r) => r.w1KeysPerSec, format: int },
  { label: 'W1 blocks', get: (r) => r.blocks, format: int },
  { label: 'W1 bytes (MiB)', better: 'lower', get: (r) => r.bytes / 2 ** 20, format: fixed(2) },
  { label: 'W1 depth', get: (r) => r.depth, format: int },
  { label: 'W2 random gets (gets/s)', better: 'higher', get: (r) => r.w2GetsPerSec, format: int },
  { label: 'W3 batch of 100 (ms)', better: 'lower', get: (r) => r.w3Ms, format: fixed(1) },
  { label: 'W3 new blocks', better: 'lower', get: (r) => r.w3Blocks, format: int },
  { label: 'W3 new bytes (KiB)', better: 'lower', get: (r) => r.w3Bytes / 1024, format: fixed(1) },
  { label: 'W4 single puts (roots/s)', better: 'higher', get: (r) => r.w4RootsPerSec, format: int },
  { label: 'W5 diff after W3 (ms)', better: 'lower', get: (r) => r.w5Ms, format: fixed(2) },
  { label: 'W6 same root, two orders', get: (r) => r.w6SameRoot, format: String },
  { label: 'peak RSS (MiB)', better: 'lower', get: (r) => r.peakRssMb, format: int },
]

/** The median of a metric over runs; booleans must agree across runs. */
function value(subject: string, metric: Metric): number | boolean | null {
  const values = (results.get(subject) ?? []).map(metric.get)
  if (values.length === 0 || values[0] === null) return null
  if (typeof values[0] === 'boolean') return values.every((v) => v === values[0]) ? values[0] : null
  return median(values as number[])
}

function show(v: number | boolean | null, metric: Metric): string {
  if (v === null || (typeof v === 'number' && Number.isNaN(v))) return '-'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  return metric.format(v)
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`
  return [
    line(header),
    `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`,
    ...rows.map(line),
  ].join('\n')
}

const names = subjects.map((s) => results.get(s)?.[0]?.subject ?? s)
const ours = subjects.includes('dagsync') ? 'dagsync' : undefined
const others = subjects.filter((s) => !s.startsWith('dagsync') && s !== 'floor')

if (args.json) {
  process.stdout.write(`${JSON.stringify(Object.fromEntries(results), null, 2)}\n`)
} else {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  process.stdout.write(
    `\nTree workload: ${keys.toLocaleString('en-US')} keys k00000000..., values {n, name, tags}, in memory.\n` +
      `Medians of ${runs} run(s), each library and run in a fresh process; Node ${process.versions.node}, ${cpus().length} x ${cpu}.\n\n`,
  )
  process.stdout.write(
    `${table(
      ['', ...names],
      metrics.map((m) => [m.label, ...subjects.map((s) => show(value(s, m), m))]),
    )}\n`,
  )

  if (ours !== undefined && others.length > 0) {
    const ratioRows = metrics
      .filter((m) => m.better !== undefined)
      .map((m) => {
        const mine = value(ours, m) as number
        return [
          m.label,
          ...others.map((o) => {
            const theirs = value(o, m) as number | null
            if (theirs === null || Number.isNaN(theirs) || Number.isNaN(mine) || mine === 0 || theirs === 0) return '-'
            return `${(m.better === 'higher' ? mine / theirs : theirs / mine).toFixed(2)}x`
          }),
        ]
      })
    process.stdout.write(
      `\nHow many times better dagsync is than each (above 1: better; throughput divided, costs inverted):\n\n${table(['', ...others.map((o) => results.get(o)?.[0]?.subject ?? o)], ratioRows)}\n`,
    )
  }
}
