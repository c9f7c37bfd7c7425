import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GcLock } from '../src/index.ts'

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

describe('GcLock', { timeout: 5_000 }, () => {
  it('starts an exclusive section only once the shared sections open before it have closed', async () => {
    const lock = new GcLock()
    const events: string[] = []
    const held = gate()
    const shared = lock.shared(async () => {
      events.push('shared start')
      await held.promise
      events.push('shared end')
    })
    const exclusive = lock.withExclusive(
      () => {
        events.push('exclusive')
      },
      () => {
        events.push('waiting')
        held.open()
      },
    )
    await Promise.all([shared, exclusive])
    assert.deepEqual(events, ['shared start', 'waiting', 'shared end', 'exclusive'])
  })

  it('holds new shared sections until the exclusive one is done', async () => {
    const lock = new GcLock()
    const events: string[] = []
    const held = gate()
    const exclusive = lock.withExclusive(async () => {
      events.push('exclusive start')
      // A shared section asked for now must not start before this one ends.
      void lock.shared(() => events.push('shared'))
      await held.promise
      events.push('exclusive end')
    })
    assert.equal(lock.heldExclusively, true)
    held.open()
    await exclusive
    await lock.shared(() => {})
    assert.deepEqual(events, ['exclusive start', 'exclusive end', 'shared'])
  })

  it('lets a shared section open another inside it while an exclusive one waits', async () => {
    const lock = new GcLock()
    const events: string[] = []
    const inner = gate()
    const outer = lock.shared(async () => {
      await inner.promise
      // A sync commits its adopted head inside its own shared section.
      await lock.shared(() => events.push('inner'))
      events.push('outer end')
    })
    const exclusive = lock.withExclusive(
      () => events.push('exclusive'),
      () => inner.open(),
    )
    await Promise.all([outer, exclusive])
    assert.deepEqual(events, ['inner', 'outer end', 'exclusive'])
  })

  it('does not call onWait when nothing is open', async () => {
    const lock = new GcLock()
    let waited = false
    await lock.withExclusive(
      () => {},
      () => {
        waited = true
      },
    )
    assert.equal(waited, false)
    assert.equal(lock.heldExclusively, false)
  })

  it('runs exclusive sections one at a time, in order', async () => {
    const lock = new GcLock()
    const events: string[] = []
    const first = gate()
    const a = lock.withExclusive(async () => {
      events.push('a start')
      await first.promise
      events.push('a end')
    })
    const b = lock.withExclusive(() => events.push('b'))
    first.open()
    await Promise.all([a, b])
    assert.deepEqual(events, ['a start', 'a end', 'b'])
  })
})
