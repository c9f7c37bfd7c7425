// The Merkle Search Tree of @atproto/repo (Bluesky's repository data structure) as a benchmark subject.
//
// MST keys must look like `collection/rkey`, so our key `k00000042` is stored as `bench/k00000042`.
// Values are records: each is encoded as its own DAG-CBOR block (`BlockMap.add`, as `Repo` does for a
// write) and the MST maps the key to its CID; record blocks count in the block and byte stats.
//
// The library has no bulk-load API (`Repo.formatInitCommit` calls `add` once per record), so load builds
// the tree bottom-up from the sorted leaves with its public primitives: `mstUtil.leadingZerosOnHash`
// gives each key's layer, and `MST.create` makes each node from its entries. That yields the same root
// as successive `add`s (checked against reverse-order adds for 0 to 20,000 keys) in one pass; `newStore`
// and `load` are exported so a test can check that again. Batch and put do what `Repo.applyWrites` does:
// `update`/`add` on the in-memory tree, then `getUnstoredBlocks` once and `putMany` into the
// MemoryBlockstore. Diff is `DataDiff.of` (mstDiff) on the two in-memory trees. `Repo` knows whether a
// write creates or updates a record, and so does each phase here: W3 and W4 change keys that exist
// (`update`), W6 inserts new ones (`add`). Trying the wrong one first throws after a full descent.

import { BlockMap, DataDiff, Leaf, MemoryBlockstore, MST, mstUtil, type NodeEntry } from '@atproto/repo'
import type { Entry, LoadStats, Subject, Value, WriteStats } from '../subject.ts'

/** @atproto/lex-data's CID type, which @atproto/repo does not re-export. */
type Cid = Leaf['value']
/** A record as `BlockMap.add` takes it (@atproto/lex-data's LexValue). */
type LexValue = Parameters<BlockMap['add']>[0]
/** Our values are plain integers, strings and arrays, so valid records; TS wants an index signature. */
const asRecord = (value: Value) => value as unknown as LexValue

const COLLECTION = 'bench'
const mstKey = (key: string) => `${COLLECTION}/${key}`

export interface Store {
  storage: MemoryBlockstore
  root: MST
}

export async function newStore(): Promise<Store> {
  const storage = new MemoryBlockstore()
  return { storage, root: await MST.create(storage) }
}

/**
 * Puts a write's blocks into storage; returns what was not there before. `getUnstoredBlocks` already
 * leaves out the tree nodes storage has; a record block may already be there (an equal record).
 */
async function persist(storage: MemoryBlockstore, nodes: BlockMap, records: BlockMap): Promise<WriteStats> {
  const stats = { blocks: nodes.size, bytes: nodes.byteSize }
  const fresh = new BlockMap()
  for (const [cid, bytes] of records) {
    if (await storage.has(cid)) continue
    fresh.set(cid, bytes)
    stats.blocks++
    stats.bytes += bytes.byteLength
  }
  await storage.putMany(nodes)
  await storage.putMany(fresh)
  return stats
}

interface Item {
  key: string
  cid: Cid
  layer: number
}

/** The node at `layer` holding `items` (sorted, all at `layer` or below): what successive adds give. */
async function build(storage: MemoryBlockstore, items: Item[], layer: number): Promise<MST> {
  const entries: NodeEntry[] = []
  let below: Item[] = []
  const flush = async () => {
    if (below.length === 0) return
    entries.push(await build(storage, below, layer - 1))
    below = []
  }
  for (const item of items) {
    if (item.layer < layer) {
      below.push(item)
      continue
    }
    await flush()
    entries.push(new Leaf(item.key, item.cid))
  }
  await flush()
  return MST.create(storage, entries, { layer })
}

export async function load(store: Store, entries: Entry[]): Promise<void> {
  const records = new BlockMap()
  const items: Item[] = []
  let top = 0
  for (const { key, value } of entries) {
    const k = mstKey(key)
    mstUtil.ensureValidMstKey(k)
    const layer = await mstUtil.leadingZerosOnHash(k)
    if (layer > top) top = layer
    items.push({ key: k, cid: await records.add(asRecord(value)), layer })
  }
  store.root = items.length === 0 ? await MST.create(store.storage) : await build(store.storage, items, top)
  const { blocks } = await store.root.getUnstoredBlocks()
  await store.storage.putMany(blocks)
  await store.storage.putMany(records)
}

/** Writes entries on the tree with `update` (keys that exist) or `add` (new keys), then persists the new root's blocks once. */
async function write(store: Store, entries: Entry[], op: 'update' | 'add'): Promise<WriteStats> {
  const records = new BlockMap()
  let root = store.root
  for (const { key, value } of entries) {
    const cid = await records.add(asRecord(value))
    root = op === 'update' ? await root.update(mstKey(key), cid) : await root.add(mstKey(key), cid)
  }
  const { blocks } = await root.getUnstoredBlocks()
  const stats = await persist(store.storage, blocks, records)
  store.root = root
  return stats
}

export function createSubject(): Subject {
  let store: Store | null = null
  let before: MST | null = null
  const open = async () => (store ??= await newStore())

  return {
    name: 'atproto-mst',

    async load(entries) {
      await load(await open(), entries)
    },

    async stats(): Promise<LoadStats> {
      const { storage, root } = await open()
      const seen = new Set<string>()
      let blocks = 0
      let bytes = 0
      let depth = 0
      const count = async (cid: Cid) => {
        const key = cid.toString()
        if (seen.has(key)) return
        seen.add(key)
        blocks++
        bytes += (await storage.getBytes(cid))!.byteLength
      }
      const visit = async (node: MST, level: number): Promise<void> => {
        depth = Math.max(depth, level)
        await count(await node.getPointer())
        for (const entry of await node.getEntries()) {
          if (entry.isLeaf()) await count(entry.value)
          else await visit(entry, level + 1)
        }
      }
      await visit(root, 1)
      return { blocks, bytes, depth }
    },

    async get(key) {
      const { storage, root } = store!
      const cid = await root.get(mstKey(key))
      return cid === null ? undefined : storage.readRecord(cid)
    },

    async batch(entries) {
      const s = await open()
      before = s.root
      return write(s, entries, 'update')
    },

    async diffLastBatch() {
      if (before === null || store === null) throw new Error('no batch yet')
      const diff = await DataDiff.of(store.root, before)
      return diff.addList().length + diff.updateList().length + diff.deleteList().length
    },

    async put(entry) {
      await write(await open(), [entry], 'update')
    },

    async sameRootForOrders(sorted, shuffled) {
      const roots: string[] = []
      for (const order of [sorted, shuffled]) {
        const fresh = await newStore()
        for (const entry of order) await write(fresh, [entry], 'add')
        roots.push((await fresh.root.getPointer()).toString())
      }
      return roots[0] === roots[1]
    },
  }
}
