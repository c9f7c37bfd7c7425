// The fault suite: `pnpm test:faults` (the long form, `--long`) or, in its short form, part of
// `npm test` (test/faults.test.ts). Prints the table docs/reliability.md quotes; exits 1 if a
// target is missed.
//   node test/faults/suite.ts [--long] [--only <scenario>]
import { Scratch } from '../cli-helpers.ts'
import { badInput } from './bad-input.ts'
import { corruption } from './corruption.ts'
import { killRounds, powerLoss } from './durability.ts'
import { followerPowerLoss } from './follower-power-loss.ts'
import { gcRace } from './gc-race.ts'
import { lyingPeer } from './lying-peer.ts'
import { type FaultResult, misses, table } from './report.ts'

/** How much each scenario does: the short form fits CI, the long form meets issue 12's ≥ 200 crash rounds. */
export const FORMS = {
  short: { kill: 10, power: 30, readerPower: 6, gcWrites: 60, corruptions: 40, lies: 1 },
  long: { kill: 200, power: 300, readerPower: 60, gcWrites: 600, corruptions: 400, lies: 5 },
} as const

export const SCENARIOS = {
  kill: (scratch: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => killRounds(scratch, form.kill),
  power: (_: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => powerLoss(form.power),
  'reader-power': (_: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => followerPowerLoss(form.readerPower),
  'gc-race': (scratch: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => gcRace(scratch, form.gcWrites),
  'lying-peer': (_: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => lyingPeer(form.lies),
  'bad-input': (scratch: Scratch) => badInput(scratch),
  corruption: (scratch: Scratch, form: (typeof FORMS)[keyof typeof FORMS]) => corruption(scratch, form.corruptions),
} as const

export async function runSuite(long: boolean, only?: string): Promise<FaultResult[]> {
  const form = long ? FORMS.long : FORMS.short
  const results: FaultResult[] = []
  for (const [name, run] of Object.entries(SCENARIOS)) {
    if (only !== undefined && name !== only) continue
    const scratch = new Scratch()
    try {
      const started = Date.now()
      results.push(await run(scratch, form))
      process.stderr.write(`[faults] ${name}: ${Math.round((Date.now() - started) / 1000)} s\n`)
    } finally {
      await scratch.close()
    }
  }
  return results
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  const long = args.includes('--long')
  const onlyAt = args.indexOf('--only')
  const results = await runSuite(long, onlyAt >= 0 ? args[onlyAt + 1] : undefined)
  const load = (await import('node:os')).loadavg().map((l) => l.toFixed(2))
  process.stdout.write(`\n${table(results)}\n\n${long ? 'long' : 'short'} form; load average ${load.join(' ')}\n`)
  const missed = results.flatMap(misses)
  for (const line of missed) process.stdout.write(`MISSED ${line}\n`)
  process.exitCode = missed.length > 0 ? 1 : 0
}
