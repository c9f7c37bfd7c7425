// What the CLI prints, and how it exits. Data goes to stdout (as text for people, or with
// `--json` as DAG-JSON: one object, or one per line for lists that stream); progress bars and
// errors go to stderr, so a pipe gets only data.
import { open, rename, rm } from 'node:fs/promises'
import type { ApiErrorCode, OnProgress, StoreProblem } from '@dagsync/daemon/client'
import { encodeWire } from '@dagsync/daemon/client'

export { plural } from '@dagsync/daemon/client'

/** Exit codes: scripts can tell what went wrong without parsing messages. */
export const EXIT = {
  ok: 0,
  /** The command failed (a conflict, a failed check, anything unexpected). */
  failure: 1,
  /** Bad arguments or input: fix the command line. */
  usage: 2,
  notFound: 3,
  /** Wrong or missing API token, or a writer that refused a write. */
  unauthorized: 4,
  /** The daemon, a peer or the repo is not available (not running, locked). */
  unavailable: 5,
} as const

const EXIT_FOR: Record<ApiErrorCode, number> = {
  'bad-request': EXIT.usage,
  'not-found': EXIT.notFound,
  unauthorized: EXIT.unauthorized,
  unavailable: EXIT.unavailable,
  conflict: EXIT.failure,
  internal: EXIT.failure,
}

/** A mistake on the command line: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** A command that ran but found a problem it already reported (pin verify): exit with `code`. */
export class ReportedFailure extends Error {
  override name = 'ReportedFailure'
  readonly exitCode: number

  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message)
    this.exitCode = exitCode
  }
}

/** The exit code and the one-line message for an error. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message }
  if (err instanceof ReportedFailure) return { code: err.exitCode, message: err.message }
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code in EXIT_FOR)
    return { code: EXIT_FOR[code as ApiErrorCode], message: (err as Error).message }
  return { code: EXIT.failure, message: err instanceof Error ? err.message : String(err) }
}

/** Lists stores the repo lost or cannot read, one per line with what to do. */
export function printProblems(problems: readonly StoreProblem[]): void {
  print(
    `PROBLEMS: the repo's database lost or cannot read ${problems.length === 1 ? 'a store' : `${problems.length} stores`}`,
  )
  for (const problem of problems) print(`BAD  ${problem.message}`)
}

/** The failure a command ends with when the repo has problems: it names the stores. */
export function problemsFailure(problems: readonly StoreProblem[]): ReportedFailure {
  const stores = [...new Set(problems.map((p) => (p.names[0] === undefined ? p.store : `${p.names[0]} (${p.store})`)))]
  return new ReportedFailure(`the repo's database lost or cannot read store ${stores.join(', store ')}`)
}

/** Prints a value as DAG-JSON on one line. */
export function printJson(value: unknown): void {
  process.stdout.write(`${encodeWire(value)}\n`)
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`)
}

/** A value for people: DAG-JSON (links as {"/": cid}, bytes as base64), indented. */
export function pretty(value: unknown): string {
  return JSON.stringify(JSON.parse(encodeWire(value)), null, 2)
}

/** A key as text: a string as is, bytes as 0x-hex. */
export function showKey(key: string | Uint8Array): string {
  return typeof key === 'string' ? key : `0x${Buffer.from(key).toString('hex')}`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** Rows as aligned columns under a header; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

export interface ProgressDisplay {
  readonly onProgress: OnProgress
  stop(): void
  /** Whether the bar was drawn (what else goes to the terminal may wait for it). */
  readonly shown: boolean
}

/**
 * A progress bar on stderr (blocks, or other `unit`s, bytes, rate) while long work runs, when
 * stderr is a terminal and the output is not JSON. Otherwise it shows nothing.
 */
export async function progressBar(label: string, enabled: boolean, unit = 'blocks'): Promise<ProgressDisplay> {
  if (!enabled || process.stderr.isTTY !== true) return { onProgress: () => {}, stop: () => {}, shown: false }
  // Loaded only for a bar on a terminal: most calls (pipes, scripts, --json) never draw one.
  const { default: cliProgress } = await import('cli-progress')
  const started = Date.now()
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} {bar} {phase} {blocks} ${unit} | {size} | {rate}/s`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  )
  let shown = false
  return {
    onProgress: (p) => {
      const payload = {
        phase: p.phase ?? '',
        blocks: p.blocks,
        size: formatBytes(p.bytes),
        rate: formatBytes(Math.round(p.bytes / Math.max((Date.now() - started) / 1000, 0.001))),
      }
      // Without a known total the bar fills as blocks arrive, so it still shows motion.
      const total = p.total ?? Math.max(p.blocks * 2, 1)
      if (!shown) {
        bar.start(total, p.blocks, payload)
        shown = true
      } else {
        bar.setTotal(total)
        bar.update(p.blocks, payload)
      }
    },
    stop: () => {
      if (shown) bar.stop()
    },
    get shown() {
      return shown
    },
  }
}

/** Writes bytes to stdout, or to a file through a temporary name so a failed download leaves no partial file. */
export async function writeBytes(chunks: AsyncIterable<Uint8Array>, output: string | undefined): Promise<number> {
  let size = 0
  if (output === undefined || output === '-') {
    for await (const chunk of chunks) {
      size += chunk.length
      if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve))
    }
    return size
  }
  const partial = `${output}.partial`
  const handle = await open(partial, 'w')
  try {
    for await (const chunk of chunks) {
      size += chunk.length
      await handle.write(chunk)
    }
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(partial, { force: true })
    throw err
  }
  await handle.close()
  await rename(partial, output)
  return size
}
