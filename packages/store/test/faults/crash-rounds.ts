// Kill -9 rounds against fixtures/crash-writer.ts, at named crash points: for the crash test and
// the fault suite.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'

const fixtures = new URL('../fixtures/', import.meta.url).pathname

/** Crash points of fixtures/crash-writer.ts, and how many times each is reached before the kill. */
export const CRASH_POINTS = ['ack', 'before-write', 'after-write', 'gc-sweep', 'gc-deleted'] as const

/** The crash point and count of round `round`: every point in turn, at counts that vary. */
export function crashPlan(round: number): { point: (typeof CRASH_POINTS)[number]; nth: number } {
  const point = CRASH_POINTS[round % CRASH_POINTS.length]
  const nth = point.startsWith('gc') ? 1 + (round % 3) : 1 + ((round * 37) % 120)
  return { point, nth }
}

export interface Acked {
  seq: number
  commit: string
  run: number
  i: number
}

/** Runs the crash writer until it kills itself at `point`; returns what it acknowledged. */
export async function crashRound(path: string, run: number, point: string, nth: number): Promise<Map<string, Acked>> {
  const child = spawn(
    process.execPath,
    [join(fixtures, 'crash-writer.ts'), path, '16', String(run), point, String(nth)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const acked = new Map<string, Acked>()
  let buffered = ''
  child.stdout.on('data', (data: Buffer) => {
    buffered += data.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() as string
    for (const line of lines) {
      const [kind, seq, commit, key] = line.split(' ')
      if (kind !== 'ack') continue
      acked.set(key, { seq: Number(seq), commit, run, i: Number(key.split('/')[2]) })
    }
  })
  const signal = await new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  assert.equal(signal, 'SIGKILL', `run ${run} (${point} #${nth}) ended by its own kill`)
  return acked
}
