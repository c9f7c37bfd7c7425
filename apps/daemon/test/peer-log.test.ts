import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { peerLogger } from '../src/peer-log.ts'

function capture() {
  const lines: { level: number; msg: string; component: string }[] = []
  const stream = new Writable({
    write(chunk, _, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line))
      done()
    },
  })
  return { log: pino({ level: 'trace' }, stream), lines }
}

describe('the node’s log in the daemon’s', () => {
  it('writes refusals at info and failures at error, formatted, under the peer component', async () => {
    const { log, lines } = capture()
    const peerLog = peerLogger(log)
    peerLog('push for %s at %d refused: %s', 'k51abc', 7, 'wrong first block')
    peerLog.error('fast path from %p failed: %s', '12D3KooW', 'timeout')
    peerLog.newScope('sync')('scoped')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(
      lines.map(({ level, msg, component }) => [level, msg, component]),
      [
        [30, 'push for k51abc at 7 refused: wrong first block', 'peer'],
        [50, 'fast path from 12D3KooW failed: timeout', 'peer'],
        [30, 'scoped', 'peer:sync'],
      ],
    )
  })
})
