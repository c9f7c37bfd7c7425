// @web3-storage/pail (a prefix-sharded DAG key-value store) as a benchmark subject.
//
// Pail maps string keys to CIDs, so each value is written the way a pail user stores a JSON value: as
// its own DAG-CBOR block, whose CID is put under the key. Those value blocks are counted in the block
// and byte stats. Load and batch use `@web3-storage/pail/batch` (its README's fast path for many puts),
// put uses `put`, diff uses `@web3-storage/pail/diff`, all on pail's own MemoryBlockstore. Blocks the
// README would delete (`removals`) are kept, since the diff reads the root from before the batch.
// Pail needs no read before a write: blocks are put as they come. Only W3, whose new blocks are
// reported, looks each one up first to count it (dagsync's adapter does the same in W3).
// Seen in 0.6.2: when a write creates a new shard, `difference` also lists that shard's prefix (e.g.
// `k0002`) as an added key, so its count is one high per new shard; updates of existing keys are exact.

import * as codec from '@ipld/dag-cbor'
import { get as pailGet, put as pailPut } from '@web3-storage/pail'
import type { ShardDiff, ShardLink, UnknownLink } from '@web3-storage/pail/api'
import * as Batch from '@web3-storage/pail/batch'
import { MemoryBlockstore } from '@web3-storage/pail/block'
import { difference } from '@web3-storage/pail/diff'
import { ShardBlock } from '@web3-storage/pail/shard'
import { encode } from 'multiformats/block'
import { sha256 as hasher } from 'multiformats/hashes/sha2'
import type { Entry, LoadStats, Subject, Value, WriteStats } from '../subject.ts'

interface Store {
  blocks: MemoryBlockstore
  root: ShardLink
}

async function newStore(): Promise<Store> {
  const blocks = new MemoryBlockstore()
  const init = await ShardBlock.create()
  await blocks.put(init.cid, init.bytes)
  return { blocks, root: init.cid }
}

/** Where a write's blocks go: straight into the store, or, when `counting`, counted if the store lacked them. */
class Writes {
  blocks = 0
  bytes = 0

  readonly counting: boolean

  constructor(counting: boolean) {
    this.counting = counting
  }

  async put(store: Store, cid: UnknownLink, bytes: Uint8Array): Promise<void> {
    if (this.counting) {
      if ((await store.blocks.get(cid)) !== undefined) return
      this.blocks++
      this.bytes += bytes.byteLength
    }
    await store.blocks.put(cid, bytes)
  }

  async shards(store: Store, diff: ShardDiff): Promise<void> {
    for (const block of diff.additions) await this.put(store, block.cid, block.bytes)
  }
}

/** Encodes a value as its own DAG-CBOR block, stores it and returns its CID. */
async function putValue(store: Store, value: Value, writes: Writes): Promise<UnknownLink> {
  const block = await encode({ value, codec, hasher })
  await writes.put(store, block.cid, block.bytes)
  return block.cid
}

async function batch(store: Store, entries: Entry[], counting: boolean): Promise<WriteStats> {
  const writes = new Writes(counting)
  const batcher = await Batch.create(store.blocks, store.root)
  for (const { key, value } of entries) await batcher.put(key, await putValue(store, value, writes))
  const { root, ...diff } = await batcher.commit()
  await writes.shards(store, diff)
  store.root = root
  return { blocks: writes.blocks, bytes: writes.bytes }
}

async function put(store: Store, { key, value }: Entry): Promise<void> {
  const writes = new Writes(false)
  const { root, ...diff } = await pailPut(store.blocks, store.root, key, await putValue(store, value, writes))
  await writes.shards(store, diff)
  store.root = root
}

export function createSubject(): Subject {
  let store: Store | null = null
  let before: ShardLink | null = null
  const open = async () => (store ??= await newStore())

  return {
    name: 'pail',

    async load(entries) {
      await batch(await open(), entries, false)
    },

    async stats(): Promise<LoadStats> {
      const { blocks: bs, root } = await open()
      const seen = new Set<string>()
      let blocks = 0
      let bytes = 0
      let depth = 0
      const count = async (cid: UnknownLink): Promise<Uint8Array | null> => {
        const key = cid.toString()
        if (seen.has(key)) return null
        seen.add(key)
        const block = (await bs.get(cid))!
        blocks++
        bytes += block.bytes.byteLength
        return block.bytes
      }
      const visit = async (link: UnknownLink, level: number): Promise<void> => {
        const data = await count(link)
        if (data === null) return
        depth = Math.max(depth, level)
        const shard = codec.decode(data) as { entries: [string, unknown][] }
        for (const [, v] of shard.entries) {
          const [child, value] = Array.isArray(v) ? v : [null, v]
          if (value) await count(value as UnknownLink)
          if (child) await visit(child as UnknownLink, level + 1)
        }
      }
      await visit(root, 1)
      return { blocks, bytes, depth }
    },

    async get(key) {
      const { blocks, root } = store!
      const link = await pailGet(blocks, root, key)
      if (link === undefined) return undefined
      const block = await blocks.get(link)
      return codec.decode(block!.bytes)
    },

    async batch(entries) {
      const s = await open()
      before = s.root
      return batch(s, entries, true)
    },

    async diffLastBatch() {
      if (before === null || store === null) throw new Error('no batch yet')
      const { keys } = await difference(store.blocks, before, store.root)
      return keys.length
    },

    async put(entry) {
      await put(await open(), entry)
    },

    async sameRootForOrders(sorted, shuffled) {
      const roots: string[] = []
      for (const order of [sorted, shuffled]) {
        const fresh = await newStore()
        for (const entry of order) await put(fresh, entry)
        roots.push(fresh.root.toString())
      }
      return roots[0] === roots[1]
    },
  }
}
