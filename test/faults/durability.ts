// kill -9 and power loss while writers and gc run (see packages/store/test/faults).
import { crashRounds } from '../../packages/store/test/faults/crash-rounds.ts'
import { powerLossRounds } from '../../packages/store/test/faults/power-loss-rounds.ts'
import type { Scratch } from '../cli-helpers.ts'
import { type FaultResult, result } from './report.ts'

export async function killRounds(scratch: Scratch, rounds: number): Promise<FaultResult> {
  const report = await crashRounds(await scratch.dir('dagsync-crash-'), rounds)
  return result('kill -9: 16 writers + gc, 5 crash points', {
    rounds,
    acked: report.acked,
    lost: report.lost.length,
    problems: [...report.broken, ...report.lost.slice(0, 3)],
  })
}

export async function powerLoss(rounds: number): Promise<FaultResult> {
  const report = await powerLossRounds(rounds)
  return result('power loss: 6 writers + gc, unsynced writes dropped', {
    rounds,
    acked: report.acked,
    lost: report.lost.length,
    problems: [...report.broken, ...report.lost.slice(0, 3)],
  })
}
