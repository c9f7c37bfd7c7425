import { MemoryBlockstore } from '@dagsync/store'
import { MerkleSearchTree } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import type { Entry, LoadStats, Subject, WriteStats } from '../subject.ts'

/** A memory blockstore that counts, while `counting`, the blocks it did not hold before. */
class CountingBlockstore extends MemoryBlockstore {
  written = { blocks: 0, bytes: 0 }
  counting = false

  override put(key: CID, value: Uint8Array) {
    if (this.counting && !this.has(key)) {
      this.written.blocks++
      this.written.bytes += value.length
    }
    return super.put(key, value)
  }
}

export function createSubject(bitsPerLevel = 4): Subject {
  const blockstore = new CountingBlockstore()
  const tree = new MerkleSearchTree(blockstore, { bitsPerLevel })
  let root = tree.emptyRoot
  let beforeBatch = root
  let afterBatch = root
  return {
    name: bitsPerLevel === 4 ? 'dagsync' : `dagsync (fanout ${2 ** bitsPerLevel})`,
    async load(entries: Entry[]) {
      root = await tree.build(entries)
    },
    async stats(): Promise<LoadStats> {
      let blocks = 0
      let bytes = 0
      for await (const block of tree.walk(root)) {
        blocks++
        bytes += block.bytes.length
      }
      return { blocks, bytes, depth: (await tree.proof(root, 'k00000000')).length }
    },
    get(key: string) {
      return tree.get(root, key)
    },
    async batch(entries: Entry[]): Promise<WriteStats> {
      const before = { ...blockstore.written }
      beforeBatch = root
      // Counting costs a lookup per block, so it is on only for the batch whose writes are reported.
      blockstore.counting = true
      root = await tree.batch(
        root,
        entries.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })),
      )
      blockstore.counting = false
      afterBatch = root
      return { blocks: blockstore.written.blocks - before.blocks, bytes: blockstore.written.bytes - before.bytes }
    },
    async diffLastBatch() {
      let n = 0
      for await (const _ of tree.diff(beforeBatch, afterBatch)) n++
      return n
    },
    async put(entry: Entry) {
      root = await tree.put(root, entry.key, entry.value)
    },
    async sameRootForOrders(sorted: Entry[], shuffled: Entry[]) {
      const roots: CID[] = []
      for (const order of [sorted, shuffled]) {
        const fresh = new MerkleSearchTree(new MemoryBlockstore(), { bitsPerLevel })
        let r = fresh.emptyRoot
        for (const e of order) r = await fresh.put(r, e.key, e.value)
        roots.push(r)
      }
      return roots[0].equals(roots[1])
    },
  }
}
