// Builds a tree of 10,000 users in memory, changes a few of them, and prints both roots, the
// diff between them, and how many blocks the change wrote.
import { MemoryBlockstore } from 'blockstore-core'
import { MerkleSearchTree } from '../src/index.ts'

const blockstore = new MemoryBlockstore()
const tree = new MerkleSearchTree(blockstore)
const key = (i: number): string => `user/${String(i).padStart(5, '0')}`
const text = new TextDecoder()

const users = Array.from({ length: 10_000 }, (_, i) => ({
  key: key(i),
  value: { n: i, name: `user${i}`, tags: ['a', 'b'] },
}))
const v1 = await tree.build(users)
const before = await countBlocks()

const v2 = await tree.batch(v1, [
  { type: 'put', key: key(42), value: { n: 42, name: 'Ada', tags: ['admin'] } },
  { type: 'put', key: 'user/new', value: { n: 10_000, name: 'newcomer', tags: [] } },
  { type: 'delete', key: key(7) },
])
const written = (await countBlocks()) - before

console.log(`v1 root: ${v1}  (${users.length} entries, ${before} blocks)`)
console.log(`v2 root: ${v2}  (${written} new blocks for 3 changes)`)
console.log('diff v1 -> v2:')
for await (const change of tree.diff(v1, v2)) {
  const show = (e: { value: unknown } | undefined): string => (e === undefined ? '-' : JSON.stringify(e.value))
  console.log(`  ${text.decode(change.key)}: ${show(change.before)} -> ${show(change.after)}`)
}
const again = await tree.build(
  (async function* () {
    for await (const entry of tree.entries(v2)) yield entry
  })(),
)
console.log(`rebuilding v2's entries from scratch gives the same root: ${again.equals(v2)}`)

async function countBlocks(): Promise<number> {
  let n = 0
  for await (const _ of blockstore.getAll()) n++
  return n
}
