import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { runSteps, ShutdownError, stopWithin } from '../src/shutdown.ts'

const log = pino({ level: 'silent' })

describe('runSteps', () => {
  it('runs every step even after one fails, then rejects naming the failed ones', async () => {
    const ran: string[] = []
    const seen: string[] = []
    const steps = ['closing the HTTP API', 'stopping the node', 'closing the database'].map((name) => ({
      name,
      run: async () => {
        ran.push(name)
        if (name === 'stopping the node') throw new Error('IO error: No space left on device')
      },
    }))
    const failed = await runSteps(steps, log, (step) => seen.push(step)).then(
      () => undefined,
      (err: unknown) => err,
    )
    assert.ok(failed instanceof ShutdownError)
    assert.deepEqual(ran, ['closing the HTTP API', 'stopping the node', 'closing the database'])
    assert.deepEqual(seen, ran)
    assert.deepEqual(
      failed.failures.map((f) => f.step),
      ['stopping the node'],
    )
    assert.match(failed.message, /stopping the node: IO error: No space left on device/)
  })
})

describe('stopWithin', () => {
  it('resolves 0 after a clean stop, 1 after a failed one, and 1 at the deadline of one that never ends', async () => {
    const daemon = (stop: () => Promise<void>) => ({ stop, stopStep: 'closing the database', log })
    assert.equal(await stopWithin(daemon(async () => {})), 0)
    assert.equal(await stopWithin(daemon(() => Promise.reject(new Error('failed')))), 1)
    assert.equal(
      await stopWithin(
        daemon(() => new Promise(() => {})),
        { deadlineMs: 50 },
      ),
      1,
    )
  })
})
