import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CommitNotFoundError,
  InvalidPathError,
  InvalidStoreNameError,
  InvalidValueError,
  memoryStorage,
  openStore,
  ReadOnlyStoreError,
  StoreClosedError,
} from '../src/index.ts'

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}

async function blockCount(storage: ReturnType<typeof memoryStorage>): Promise<number> {
  let n = 0
  for await (const _ of storage.blockstore.getAll()) n++
  return n
}

describe('the key-value API', () => {
  it('reads and writes values, nested paths and updates', async () => {
    const db = await openStore({ storage: memoryStorage() })
    assert.equal(await db.get('missing'), undefined)
    await db.assoc('user/1', { name: 'Ada', langs: ['en'], address: { city: 'London' } })
    assert.deepEqual(await db.get('user/1'), { name: 'Ada', langs: ['en'], address: { city: 'London' } })
    assert.equal(await db.getIn(['user/1', 'address', 'city']), 'London')
    assert.equal(await db.getIn(['user/1', 'langs', 0]), 'en')
    assert.equal(await db.getIn(['user/1', 'nope', 'deeper']), undefined)
    await db.assocIn(['user/1', 'address', 'zip'], 'N1')
    await db.assocIn(['user/1', 'langs', 1], 'fr')
    await db.assocIn(['new', 'a', 'b'], 1)
    assert.deepEqual(await db.get('user/1'), {
      name: 'Ada',
      langs: ['en', 'fr'],
      address: { city: 'London', zip: 'N1' },
    })
    assert.deepEqual(await db.get('new'), { a: { b: 1 } })
    await db.updateIn(['counter'], (n) => ((n as number | undefined) ?? 0) + 1)
    await db.updateIn(['counter'], async (n) => (n as number) + 10)
    assert.equal(await db.get('counter'), 11)
    assert.equal(await db.exists('counter'), true)
    await db.dissoc('counter')
    assert.equal(await db.exists('counter'), false)
    await assert.rejects(db.assocIn(['user/1', 'name', 'first'], 'x'), InvalidPathError)
    await assert.rejects(db.assocIn(['user/1', 'langs', 5], 'x'), InvalidPathError)
  })

  it('keeps each entry of one commit its own metadata: type, key form and size', async () => {
    const db = await openStore({ storage: memoryStorage(), now: () => 7_000 })
    // Values of one encoded size (2 bytes) under a string key, a bytes key, and as binary.
    await db.transact(async (tx) => {
      await tx.assoc('s', 'x')
      await tx.assoc(Uint8Array.of(0x62), 'y')
      await tx.bassoc('bin', Uint8Array.of(1, 2))
      await tx.assoc('t', 'xyz')
    })
    const keys = (await collect(db.keys())).map((k) => [k.key, k.type, k.size, k.lastWrite.getTime()])
    assert.deepEqual(keys, [
      [Uint8Array.of(0x62), 'value', 2, 7_000],
      ['bin', 'binary', 2, 7_000],
      ['s', 'value', 2, 7_000],
      ['t', 'value', 4, 7_000],
    ])
  })

  it('keeps metadata per key and lists keys in order, by range', async () => {
    let clock = 1_000
    const db = await openStore({ storage: memoryStorage(), now: () => clock })
    for (const k of ['b', 'a/2', 'a/1', 'c']) {
      clock += 1000
      await db.assoc(k, k.toUpperCase())
    }
    await db.bassoc('blob', new Uint8Array(10))
    const keys = await collect(db.keys())
    assert.deepEqual(
      keys.map((k) => k.key),
      ['a/1', 'a/2', 'b', 'blob', 'c'],
    )
    const a1 = keys.find((k) => k.key === 'a/1')
    assert.equal(a1?.type, 'value')
    assert.equal(a1?.lastWrite.getTime(), 4_000)
    assert.equal(a1?.size, 4) // "A/1" encodes to 4 bytes
    assert.deepEqual(await db.getMeta('blob'), { key: 'blob', type: 'binary', lastWrite: new Date(5_000), size: 10 })
    assert.deepEqual(
      (await collect(db.keys({ prefix: 'a/', reverse: true }))).map((k) => k.key),
      ['a/2', 'a/1'],
    )
    assert.deepEqual(
      (await collect(db.entries({ gt: 'a/2', limit: 2 }))).map((e) => [e.key, e.value]),
      [
        ['b', 'B'],
        ['blob', new Uint8Array(10)],
      ],
    )
    assert.equal(await db.count(), 5)
  })

  it('gives byte keys back as bytes and string keys as strings', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc(Uint8Array.of(0xff, 0x00), 'bytes key')
    await db.assoc('text', 'string key')
    const keys = (await collect(db.keys())).map((k) => k.key)
    assert.deepEqual(keys, ['text', Uint8Array.of(0xff, 0x00)])
    assert.equal(await db.get(Uint8Array.of(0xff, 0x00)), 'bytes key')
  })

  it('stores binary values of any size, streamed in and out', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const big = new Uint8Array(3 * 1024 * 1024 + 7).map((_, i) => (i * 13) & 0xff)
    const pieces = async function* () {
      for (let i = 0; i < big.length; i += 100_000) yield big.subarray(i, i + 100_000)
    }
    await db.bassoc('big', pieces())
    await db.bassoc('small', Uint8Array.of(1, 2, 3))
    const value = await db.bget('big')
    assert.equal(value?.size, big.length)
    const chunks = await collect(value!.stream())
    assert.ok(chunks.length > 1, 'streamed in chunks')
    assert.deepEqual(await value!.bytes(), big)
    assert.deepEqual(await (await db.bget('small'))!.bytes(), Uint8Array.of(1, 2, 3))
    assert.equal(await db.bget('nothing'), undefined)
    await assert.rejects(async () => {
      await db.assoc('not-bytes', { a: 1 })
      await (await db.bget('not-bytes'))!.bytes()
    }, InvalidValueError)
  })

  it('refuses values outside the IPLD data model with a clear error, writing nothing', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage })
    await db.assoc('ok', 1)
    const blocks = await blockCount(storage)
    class Point {
      x = 1
    }
    for (const [value, message] of [
      [undefined, /value is undefined/],
      [() => 1, /value is a function/],
      [Number.NaN, /value is NaN/],
      [{ at: new Point() }, /value\.at is a Point/],
      [{ when: new Date() }, /value\.when is a Date/],
    ] as const) {
      await assert.rejects(
        db.assoc('bad', value),
        (err: Error) => err instanceof InvalidValueError && message.test(err.message),
      )
    }
    assert.equal(await blockCount(storage), blocks)
    assert.equal(db.head?.seq, 1)
  })
})

describe('transactions', () => {
  it('apply all writes as one commit, or none if the function throws', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('balance/a', 100)
    await db.assoc('balance/b', 0)
    const { value, commit } = await db.transact(
      async (tx) => {
        const a = (await tx.get('balance/a')) as number
        await tx.assoc('balance/a', a - 30)
        await tx.updateIn(['balance/b'], (b) => (b as number) + 30)
        // Reads inside see the transaction's own writes.
        return [await tx.get('balance/a'), await tx.get('balance/b')]
      },
      { meta: { author: 'test' } },
    )
    assert.deepEqual(value, [70, 30])
    assert.equal(commit?.seq, 3)
    assert.deepEqual(commit?.meta, { author: 'test' })
    await assert.rejects(
      db.transact(async (tx) => {
        await tx.assoc('balance/a', 0)
        await tx.assoc('balance/c', 1)
        throw new Error('changed my mind')
      }),
      /changed my mind/,
    )
    assert.equal(await db.get('balance/a'), 70)
    assert.equal(await db.exists('balance/c'), false)
    assert.equal(db.head?.seq, 3, 'no commit for the failed transaction')
  })

  it('make no commit when nothing changes, and refuse use after the function returns', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const reads = await db.transact(async (tx) => tx.get('x'))
    assert.equal(reads.commit, null)
    await db.dissoc('never-written')
    assert.equal(db.head, null)
    let leaked: { assoc(k: string, v: unknown): Promise<void> } | undefined
    await db.transact((tx) => {
      leaked = tx
    })
    await assert.rejects(leaked!.assoc('late', 1), /transaction has ended/)
  })

  it('run concurrent transactions one at a time, each on the previous one', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await Promise.all(Array.from({ length: 50 }, () => db.updateIn(['n'], (n) => ((n as number | undefined) ?? 0) + 1)))
    assert.equal(await db.get('n'), 50)
    assert.equal(db.head?.seq, 50)
  })
})

describe('history', () => {
  it('links commits, keeps snapshots immutable, and opens past versions', async () => {
    const db = await openStore({ storage: memoryStorage() })
    await db.assoc('k', 'v1')
    const snapshot = db.snapshot()
    await db.assoc('k', 'v2')
    await db.assoc('other', true)
    assert.equal(await snapshot.get('k'), 'v1', 'a snapshot never sees later writes')
    const log = await collect(db.log())
    assert.deepEqual(
      log.map((c) => c.seq),
      [3, 2, 1],
    )
    assert.ok(log[0].prev?.equals(log[1].cid) && log[1].prev?.equals(log[2].cid) && log[2].prev === null)
    assert.equal(await (await db.at(1)).get('k'), 'v1')
    assert.equal(await (await db.at(log[1].cid)).get('k'), 'v2')
    assert.equal(await (await db.at(0)).get('k'), undefined)
    await assert.rejects(db.at(9), CommitNotFoundError)
    const changes = await collect(db.diff(1))
    assert.deepEqual(
      changes.map((c) => [c.key, c.before, c.after]),
      [
        ['k', 'v1', 'v2'],
        ['other', undefined, true],
      ],
    )
  })

  it('tells watchers which keys each commit changed, by prefix', async () => {
    const db = await openStore({ storage: memoryStorage() })
    const watch = db.watch({ prefix: 'user/' })
    const events = (async () => {
      const seen: [number, string[]][] = []
      for await (const event of watch) {
        seen.push([event.commit.seq, event.changes.map((c) => c.key as string)])
        if (seen.length === 2) break
      }
      return seen
    })()
    await db.assoc('user/1', 'a')
    await db.assoc('other', 'x')
    await db.transact(async (tx) => {
      await tx.assoc('user/2', 'b')
      await tx.dissoc('user/1')
    })
    assert.deepEqual(await events, [
      [1, ['user/1']],
      [3, ['user/1', 'user/2']],
    ])
  })
})

describe('stores and storage', () => {
  it('share blocks between stores in one storage', async () => {
    const storage = memoryStorage()
    const a = await openStore({ storage, name: 'a' })
    const b = await openStore({ storage, name: 'b' })
    const value = { text: 'shared '.repeat(100) }
    await a.assoc('x', value)
    const before = await blockCount(storage)
    await b.assoc('y', value)
    // b wrote its own node and commit, but not the 700-byte value block a already has.
    assert.equal((await blockCount(storage)) - before, 2)
    assert.deepEqual([...(await storage.heads()).keys()].sort(), ['a', 'b'])
  })

  it('record a non-default fanout in the commits and reopen with it', async () => {
    const storage = memoryStorage()
    const db = await openStore({ storage, bitsPerLevel: 2 })
    await db.assoc('k', 1)
    assert.equal(db.head?.bits, 2)
    const again = await openStore({ storage })
    assert.equal(await again.get('k'), 1)
    await assert.rejects(openStore({ storage, bitsPerLevel: 4 }), /written with bitsPerLevel 2/)
  })

  it('refuse bad names, writes to followers and use after close', async () => {
    await assert.rejects(openStore({ storage: memoryStorage(), name: '../etc' }), InvalidStoreNameError)
    const follower = await openStore({ storage: memoryStorage(), readOnly: true })
    await assert.rejects(follower.assoc('k', 1), ReadOnlyStoreError)
    const db = await openStore({ storage: memoryStorage() })
    const pending = db.assoc('k', 1)
    await db.close()
    await pending // queued before close: still committed
    await assert.rejects(db.assoc('k', 2), StoreClosedError)
    assert.throws(() => db.snapshot(), StoreClosedError)
  })
})
