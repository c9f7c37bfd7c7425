// Power loss, not only kill -9: SIGKILL leaves the OS page cache, so a missing fsync never shows
// there. Here the database keeps only synced writes when "power fails" (see PowerLossLevel),
// at a chosen acknowledgement, while writers and gc run; every acknowledged commit must survive.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { powerLossRounds } from './faults/power-loss-rounds.ts'

describe('power loss', () => {
  it('keeps every acknowledged commit, with every block, across 30 power failures during writes and gc', async () => {
    const report = await powerLossRounds(30)
    assert.deepEqual(report.lost, [], 'no acknowledged commit lost')
    assert.deepEqual(report.broken, [], 'the store opens whole after every failure')
    assert.ok(report.acked >= 30, `${report.acked} acknowledged commits checked`)
  })
})
