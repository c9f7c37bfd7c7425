// scanKeys on a real store: every matching key, chunk by chunk, giving the thread back between
// chunks (a timer set before the scan runs before it ends), and stopping when aborted.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { memoryStorage, openStore, type Store } from '@dagsync/store'
import { scanKeys } from '../src/key-scan.ts'

async function storeOf(count: number): Promise<Store> {
  const db = await openStore({ storage: memoryStorage() })
  await db.transact(
    Array.from({ length: count }, (_, i) => ({ op: 'put' as const, key: `k/${String(i).padStart(4, '0')}`, value: i })),
  )
  return db
}

const contains = (needle: string) => (info: { key: string | Uint8Array }) => String(info.key).includes(needle)

describe('scanKeys', () => {
  it('finds keys by substring anywhere in the key, in key order', async () => {
    const db = await storeOf(1000)
    const found = await scanKeys((range) => db.keys(range), contains('99'), { chunk: 64 })
    assert.deepEqual(
      found.map((i) => i.key),
      [
        'k/0099',
        'k/0199',
        'k/0299',
        'k/0399',
        'k/0499',
        'k/0599',
        'k/0699',
        'k/0799',
        'k/0899',
        'k/0990',
        'k/0991',
        'k/0992',
        'k/0993',
        'k/0994',
        'k/0995',
        'k/0996',
        'k/0997',
        'k/0998',
        'k/0999',
      ],
    )
  })

  it('gives the thread back between chunks', async () => {
    const db = await storeOf(1000)
    const progress: number[] = []
    let scannedWhenTimerRan: number | undefined
    setTimeout(() => {
      scannedWhenTimerRan = progress.at(-1) ?? 0
    }, 0)
    await scanKeys((range) => db.keys(range), contains('x'), { chunk: 100, onProgress: (n) => progress.push(n) })
    assert.equal(progress.at(-1), 1000)
    assert.ok(
      scannedWhenTimerRan !== undefined && scannedWhenTimerRan < 1000,
      `the timer ran at ${scannedWhenTimerRan}`,
    )
  })

  it("stops before its next chunk once aborted, with the signal's reason", async () => {
    const db = await storeOf(1000)
    const controller = new AbortController()
    const progress: number[] = []
    const scan = scanKeys((range) => db.keys(range), contains('k'), {
      chunk: 100,
      signal: controller.signal,
      onProgress: (n) => {
        progress.push(n)
        if (n === 200) controller.abort(new Error('a newer search'))
      },
    })
    await assert.rejects(scan, /a newer search/)
    assert.deepEqual(progress, [100, 200])
  })
})
