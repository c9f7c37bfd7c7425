// The checks on a CAR a gateway sends for a cold sync (car-prefetch.ts): each block hashed, kept
// only if the commit reaches it through blocks kept before, within the receive limits, and the
// CAR cut at the first block that fails any of them.
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { memoryStorage, openStore, readBlock, walkDag } from '@dagsync/store'
import { cidKey } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { prefetchCar } from '../src/http/car-prefetch.ts'
import { DEFAULT_RECEIVE_LIMITS } from '../src/received.ts'

type Block = { cid: CID; bytes: Uint8Array }
let commit: CID
/** The commit's DAG, each block after one that links to it. */
let dag: Block[]

before(async () => {
  const storage = memoryStorage()
  const store = await openStore({ storage, name: 'car' })
  await store.transact(async (tx) => {
    for (let i = 0; i < 300; i++) await tx.assoc(`k${i}`, { i })
  })
  commit = store.head?.cid as CID
  dag = []
  for await (const block of walkDag((cid) => readBlock(storage.blockstore, cid), [commit])) dag.push(block)
  assert.ok(dag.length > 4)
})

async function* stream(blocks: readonly Block[], failAtEnd?: Error): AsyncGenerator<Block> {
  yield* blocks
  if (failAtEnd !== undefined) throw failAtEnd
}

describe('a CAR for a cold sync', () => {
  it('keeps every block of an honest one', async () => {
    const { blocks, cut } = await prefetchCar(stream(dag), commit, DEFAULT_RECEIVE_LIMITS)
    assert.equal(cut, undefined)
    assert.deepEqual([...blocks.keys()].sort(), dag.map((b) => cidKey(b.cid)).sort())
  })

  it('is cut at a block whose bytes do not hash to its CID', async () => {
    const [first, second, third] = dag as [Block, Block, Block]
    const lying = [first, { cid: second.cid, bytes: third.bytes }, ...dag.slice(2)]
    const { blocks, cut } = await prefetchCar(stream(lying), commit, DEFAULT_RECEIVE_LIMITS)
    assert.match(cut ?? '', /do not hash to/)
    assert.deepEqual([...blocks.keys()], [cidKey(commit)])
  })

  it('is cut at a block nothing before it links to', async () => {
    const bytes = dagCbor.encode({ not: 'reached' })
    const extra = { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
    const { blocks, cut } = await prefetchCar(
      stream([dag[0] as Block, extra, ...dag.slice(1)]),
      commit,
      DEFAULT_RECEIVE_LIMITS,
    )
    assert.match(cut ?? '', /is not reached by the blocks before it/)
    assert.deepEqual([...blocks.keys()], [cidKey(commit)])
  })

  it('is cut at the receive limits', async () => {
    const byCount = await prefetchCar(stream(dag), commit, { maxBlocks: 3, maxBytes: DEFAULT_RECEIVE_LIMITS.maxBytes })
    assert.match(byCount.cut ?? '', /more than 3 blocks/)
    assert.equal(byCount.blocks.size, 3)
    const first = (dag[0] as Block).bytes.length
    const byBytes = await prefetchCar(stream(dag), commit, { maxBlocks: 1000, maxBytes: first + 1 })
    assert.match(byBytes.cut ?? '', new RegExp(`more than ${first + 1} bytes`))
    assert.equal(byBytes.blocks.size, 1)
  })

  it('keeps what came before a stream that breaks off', async () => {
    const { blocks, cut } = await prefetchCar(
      stream(dag.slice(0, 2), new Error('unexpected end of data')),
      commit,
      DEFAULT_RECEIVE_LIMITS,
    )
    assert.equal(cut, 'unexpected end of data')
    assert.equal(blocks.size, 2)
  })
})
