// Kill -9 rounds against fixtures/crash-writer.ts, at named crash points: for the crash test and
// the fault suite.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { openStore } from '../../src/index.ts'
import { openLevelStorage } from '../../src/level.ts'

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

export interface CrashReport {
  readonly rounds: number
  readonly acked: number
  /** Acknowledged commits whose key was missing or wrong after a kill. */
  readonly lost: readonly string[]
  /** Rounds after which the store did not reopen at or past its last acknowledged commit, whole. */
  readonly broken: readonly string[]
}

/**
 * `rounds` kill -9 rounds, each checked on reopening, in series of `seriesLength` rounds on one
 * LevelDB under `dir` (a new one per series: the writer commits thousands of keys a round, and
 * each check reads every key the series acknowledged).
 */
export async function crashRounds(dir: string, rounds: number, seriesLength = 10): Promise<CrashReport> {
  let owed = new Map<string, Acked>()
  let acked = 0
  const lost: string[] = []
  const broken: string[] = []
  let maxAcked = 0
  for (let run = 0; run < rounds; run++) {
    if (run % seriesLength === 0) {
      acked += owed.size
      owed = new Map()
      maxAcked = 0
    }
    const path = join(dir, `series-${Math.floor(run / seriesLength)}`)
    const { point, nth } = crashPlan(run)
    const round = await crashRound(path, run, point, nth)
    if (point === 'ack' && round.size !== nth) broken.push(`run ${run}: ${round.size} acks, killed after ack ${nth}`)
    for (const [key, ack] of round) {
      owed.set(key, ack)
      maxAcked = Math.max(maxAcked, ack.seq)
    }
    const storage = await openLevelStorage(path)
    try {
      const db = await openStore({ storage, verify: 'full' })
      if ((db.head?.seq ?? 0) < maxAcked)
        broken.push(`run ${run} (${point} #${nth}): head ${db.head?.seq} is behind acknowledged commit ${maxAcked}`)
      for (const [key, { run: r, i }] of owed) {
        if (!isDeepStrictEqual(await db.get(key), crashValue(r, i))) {
          lost.push(`run ${run} (${point} #${nth}): ${key}`)
          owed.delete(key)
        }
      }
      await db.close()
    } catch (err) {
      broken.push(`run ${run} (${point} #${nth}): ${(err as Error).message}`)
    } finally {
      await storage.close()
    }
  }
  return { rounds, acked: acked + owed.size + lost.length, lost, broken }
}

/** The value fixtures/crash-writer.ts writes for its i-th key of run `run`. */
export const crashValue = (run: number, i: number) => ({ run, i, pad: i % 7 === 0 ? 'x'.repeat(600) : '' })
