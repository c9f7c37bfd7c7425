// prolly-trees (Mikeal Rogers' probabilistic B-trees, as used by Fireproof) as a benchmark subject.
//
// Configuration as its README and tests use it: DAG-CBOR codec, SHA-256 hasher, the `bf(30)` chunker
// (Fireproof's fanout) and a cache of decoded nodes. The library's `global` cache is one object per
// process, so every store here gets its own unbounded cache with the same semantics instead (two stores
// in one process must not read each other's nodes). Blocks are kept as bytes in a Map and decoded on a
// cache miss. Values are stored inline in the leaves, as the map does.
//
// prolly-trees 1.0.4 has no diff module: diffLastBatch walks both trees level by level, drops the nodes
// the two trees share (same CID, so the same keys and values below) and compares the leaves left over.
//
// Seen in 1.0.4: the root depends on insertion order (one-by-one shuffled inserts give another root than
// `create` or sorted inserts), and after a `bulk` that adds keys before the first key a later large `bulk`
// can lose most entries. The workload's keys (k + 8 digits from k00000000) never sort before the first.

import * as codec from '@ipld/dag-cbor'
import { createUnsafe } from 'multiformats/block'
import { CID } from 'multiformats/cid'
import { sha256 as hasher } from 'multiformats/hashes/sha2'
import { create, type ProllyBlock, type ProllyCache, type ProllyNode, type ProllyOptions } from 'prolly-trees/map'
import { bf, simpleCompare } from 'prolly-trees/utils'
import type { Entry, LoadStats, Subject, WriteStats } from '../subject.ts'

const FANOUT = 30

interface Store {
  blocks: Map<string, Uint8Array>
  opts: ProllyOptions
  root: ProllyNode | null
}

function newStore(): Store {
  const blocks = new Map<string, Uint8Array>()
  const nodes = new Map<string, ProllyNode>()
  // Same behaviour as prolly-trees/cache `global`, scoped to this store.
  const cache: ProllyCache = {
    has: (cid) => nodes.has(cid.toString()),
    get: (cid) => {
      const node = nodes.get(cid.toString())
      if (node === undefined) throw new Error('Not found')
      return node
    },
    set: async (node) => {
      const key = (await node.address).toString()
      if (!nodes.has(key)) nodes.set(key, node)
    },
  }
  const opts: ProllyOptions = {
    get: async (cid: CID) => {
      const bytes = blocks.get(cid.toString())
      if (bytes === undefined) throw new Error(`missing block ${cid}`)
      return createUnsafe({ bytes, cid, codec })
    },
    cache,
    chunker: bf(FANOUT),
    codec,
    hasher,
    compare: simpleCompare,
  }
  return { blocks, opts, root: null }
}

/** Puts blocks into the store; returns what was not there before. */
function persist(store: Store, blocks: ProllyBlock[]): WriteStats {
  const stats = { blocks: 0, bytes: 0 }
  for (const block of blocks) {
    const key = block.cid.toString()
    if (store.blocks.has(key)) continue
    store.blocks.set(key, block.bytes)
    stats.blocks++
    stats.bytes += block.bytes.byteLength
  }
  return stats
}

/** Writes `entries` as one new root: `create` from the list on an empty store, else one `bulk`. */
async function upsert(store: Store, entries: Entry[], sorted = false): Promise<WriteStats> {
  if (store.root === null) {
    const list = entries.map(({ key, value }) => ({ key, value }))
    const written: ProllyBlock[] = []
    for await (const node of create({ ...store.opts, list, sorted })) {
      written.push(await node.block)
      store.root = node
    }
    return persist(store, written)
  }
  const { root, blocks } = await store.root.bulk(entries.map(({ key, value }) => ({ key, value })))
  store.root = root
  return persist(store, blocks)
}

/**
 * A node of one side of a diff: known by its CID, loaded only when the other side lacks it. `level` is
 * a hint (the parent's distance - 1): after a bulk that prepends keys, prolly-trees can leave leaves and
 * branches side by side under one branch, so a node is only known to be a leaf once loaded.
 */
interface Item {
  id: string
  level: number
  leaf: ProllyNode | null
  node: () => Promise<ProllyNode>
}

const item = async (node: ProllyNode): Promise<Item> => ({
  id: (await node.address).toString(),
  level: node.isLeaf ? 0 : node.distance, // decoded leaves carry no distance
  leaf: node.isLeaf ? node : null,
  node: async () => node,
})

/** Number of keys whose value differs between the trees under `a` and `b` (added, removed or changed). */
async function diff(a: ProllyNode, b: ProllyNode): Promise<number> {
  // Open the highest nodes first, dropping the subtrees both sides share (same CID) unread.
  const expand = async (items: Item[], top: number): Promise<Item[]> => {
    const next: Item[] = []
    for (const it of items) {
      if (it.leaf !== null || it.level < top) {
        next.push(it)
        continue
      }
      const node = await it.node()
      if (node.isLeaf) {
        next.push({ ...it, level: 0, leaf: node })
        continue
      }
      for (const entry of node.entryList.entries) {
        const cid = await entry.address!
        const level = Math.max(0, node.distance - 1)
        next.push({ id: cid.toString(), level, leaf: null, node: () => node.getNode(cid) })
      }
    }
    return next
  }
  let left = [await item(a)]
  let right = [await item(b)]
  for (;;) {
    const leftIds = new Set(left.map((it) => it.id))
    const shared = new Set(right.filter((it) => leftIds.has(it.id)).map((it) => it.id))
    left = left.filter((it) => !shared.has(it.id))
    right = right.filter((it) => !shared.has(it.id))
    const open = [...left, ...right].filter((it) => it.leaf === null)
    if (open.length === 0) break
    const top = open.reduce((max, it) => Math.max(max, it.level), 0)
    left = await expand(left, top)
    right = await expand(right, top)
  }
  const leftLeaves = left.map((it) => it.leaf!)
  const rightLeaves = right.map((it) => it.leaf!)
  const values = new Map<string, unknown>()
  for (const node of leftLeaves) for (const e of node.entryList.entries) values.set(e.key, e.value)
  let changed = 0
  for (const node of rightLeaves) {
    for (const e of node.entryList.entries) {
      if (!values.has(e.key) || !equal(values.get(e.key), e.value)) changed++
      values.delete(e.key)
    }
  }
  return changed + values.size
}

/** Equality of two decoded DAG-CBOR values (CIDs by `equals`, bytes by content). */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  const cid = CID.asCID(a)
  if (cid !== null) return cid.equals(b)
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false
    return a.every((byte, i) => byte === b[i])
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ak = Object.keys(a)
  if (ak.length !== Object.keys(b).length) return false
  return ak.every(
    (k) => Object.hasOwn(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  )
}

export function createSubject(): Subject {
  const store = newStore()
  let before: ProllyNode | null = null

  return {
    name: 'prolly-trees',

    async load(entries) {
      await upsert(store, entries, true)
    },

    async stats(): Promise<LoadStats> {
      if (store.root === null) return { blocks: 0, bytes: 0, depth: 0 }
      const seen = new Set<string>()
      let blocks = 0
      let bytes = 0
      let depth = 0
      const visit = (cid: CID, level: number) => {
        const key = cid.toString()
        if (seen.has(key)) return
        seen.add(key)
        const data = store.blocks.get(key)!
        blocks++
        bytes += data.byteLength
        depth = Math.max(depth, level)
        for (const [, link] of createUnsafe({ bytes: data, cid, codec }).links()) visit(link, level + 1)
      }
      visit(await store.root.address, 1)
      return { blocks, bytes, depth }
    },

    async get(key) {
      try {
        return (await store.root!.get(key)).result
      } catch (err) {
        if (err instanceof Error && err.message === 'Not found') return undefined
        throw err
      }
    },

    async batch(entries) {
      before = store.root
      return upsert(store, entries)
    },

    async diffLastBatch() {
      if (before === null || store.root === null) throw new Error('no batch yet')
      return diff(before, store.root)
    },

    async put(entry) {
      await upsert(store, [entry])
    },

    async sameRootForOrders(sorted, shuffled) {
      const roots: string[] = []
      for (const order of [sorted, shuffled]) {
        const fresh = newStore()
        for (const entry of order) await upsert(fresh, [entry])
        roots.push((await fresh.root!.address).toString())
      }
      return roots[0] === roots[1]
    },
  }
}
