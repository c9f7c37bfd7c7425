// The sync benchmark refuses a part it does not know, before it starts any process, rather than
// measuring nothing and printing an empty result.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('../src/run-sync.ts', import.meta.url))

test('run-sync exits with an error naming an unknown part, and prints no result', () => {
  const run = spawnSync(process.execPath, [script, '10', 'push,bogus'], { encoding: 'utf8', timeout: 60_000 })
  assert.notEqual(run.status, 0)
  assert.match(run.stderr, /unknown sync parts bogus; known: push, fast, bitswap, latency/)
  assert.equal(run.stdout, '')
})
