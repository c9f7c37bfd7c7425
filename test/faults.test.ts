// The fault suite's short form (see test/faults/suite.ts; `pnpm test:faults --long` for the long one).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Scratch } from './cli-helpers.ts'
import { misses } from './faults/report.ts'
import { FORMS, SCENARIOS } from './faults/suite.ts'

describe('fault suite (short form)', () => {
  for (const [name, run] of Object.entries(SCENARIOS)) {
    it(`${name}: meets every target`, async () => {
      const scratch = new Scratch()
      try {
        const outcome = await run(scratch, FORMS.short)
        assert.deepEqual(misses(outcome), [])
        assert.ok(outcome.rounds > 0)
      } finally {
        await scratch.close()
      }
    })
  }
})
