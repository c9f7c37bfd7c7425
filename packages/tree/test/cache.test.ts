// The decoded-node cache: CLOCK eviction, and superseded versions kept apart from live ones.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CidCache } from '../src/cache.ts'
import { cidOf } from '../src/index.ts'

const cids = Array.from({ length: 200 }, (_, i) => cidOf(new TextEncoder().encode(`block ${i}`)))

describe('CidCache', () => {
  it('keeps at most its size, preferring entries read since the hand last passed', () => {
    const cache = new CidCache<number>(10)
    for (let i = 0; i < 10; i++) cache.set(cids[i], i)
    for (let i = 0; i < 5; i++) assert.equal(cache.get(cids[i]), i)
    for (let i = 10; i < 15; i++) cache.set(cids[i], i)
    // The five read entries had a second chance; the five unread ones made room.
    for (let i = 0; i < 5; i++) assert.equal(cache.get(cids[i]), i)
    for (let i = 5; i < 10; i++) assert.equal(cache.get(cids[i]), undefined)
    for (let i = 10; i < 15; i++) assert.equal(cache.get(cids[i]), i)
  })

  it('gives a new version the slot of the one it replaces, which stays readable for a while', () => {
    const cache = new CidCache<number>(100)
    for (let i = 0; i < 100; i++) cache.set(cids[i], i)
    // 50 versions, each replacing the one before: the other 99 entries all stay.
    let previous = cids[0]
    for (let i = 100; i < 150; i++) {
      cache.set(cids[i], i, previous)
      previous = cids[i]
    }
    for (let i = 1; i < 100; i++) assert.equal(cache.get(cids[i]), i)
    assert.equal(cache.get(cids[149]), 149)
    // Superseded versions are still there for a diff against the previous version...
    assert.equal(cache.get(cids[148]), 148)
    assert.equal(cache.get(cids[0]), 0)
    // ...within a bounded area (64 here): 50 more supersessions push the oldest out.
    for (let i = 150; i < 200; i++) {
      cache.set(cids[i], i, previous)
      previous = cids[i]
    }
    assert.equal(cache.get(cids[0]), undefined)
    assert.equal(cache.get(cids[198]), 198)
    for (let i = 1; i < 100; i++) assert.equal(cache.get(cids[i]), i)
  })

  it('inserts normally when the replaced value is not cached', () => {
    const cache = new CidCache<number>(2)
    cache.set(cids[0], 0)
    cache.set(cids[1], 1, cids[150])
    cache.set(cids[2], 2, cids[151])
    assert.equal(cache.get(cids[2]), 2)
    assert.equal([0, 1].filter((i) => cache.get(cids[i]) === i).length, 1)
  })

  it('with weights, keeps the total within its bound, evicting as many light entries as a heavy one needs', () => {
    const cache = new CidCache<number>(100, (value) => value)
    for (let i = 0; i < 10; i++) cache.set(cids[i], 10)
    assert.equal(cache.weight, 100)
    cache.set(cids[10], 35)
    assert.ok(cache.weight <= 100, `${cache.weight} within 100`)
    assert.equal(cache.get(cids[10]), 35)
    assert.equal(cids.slice(0, 10).filter((cid) => cache.get(cid) !== undefined).length, 6, 'four made room for it')
    // One entry over the bound on its own is kept, alone.
    cache.set(cids[11], 150)
    assert.equal(cache.get(cids[11]), 150)
    assert.equal(cache.weight, 150)
  })
})
