// Where stores keep their blocks and heads. One storage can hold many stores; they share
// blocks (same content, same CID, stored once).
import { type Block, bytesKey } from '@dagsync/tree'
import { MemoryDatastore } from 'datastore-core'
import type { Blockstore } from 'interface-blockstore'
import { type Datastore, Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { GcLock } from './gc-lock.ts'
import { MemoryBlockstore } from './memory-blockstore.ts'

/**
 * The persistence a store needs. `commit` is the only way stores write: when it resolves, the
 * blocks and then the heads are stored (on disk: synced), so a crash at any moment leaves each
 * head either as it was or pointing at blocks that are all there.
 */
export interface Storage {
  /** Block reads (and what helia serves peers from). Stores write through `commit`. */
  readonly blockstore: Blockstore
  /** Everything else a node keeps (peer identity, IPNS records...). */
  readonly datastore: Datastore
  /**
   * Keeps gc's sweep apart from work that relies on stored blocks staying (see GcLock). `commit`
   * holds its shared side; so must a caller that looks at storage before committing what it saw.
   */
  readonly gcLock: GcLock
  /**
   * Writes blocks, then moves heads, durably and in that order, holding the shared side of
   * `gcLock`. Storage only ever holds whole DAGs (a block's links, but for a commit's `prev`,
   * are stored with it or before it): syncs skip any subtree whose root is stored.
   */
  commit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void>
  head(name: string): Promise<CID | undefined>
  /** Every store's head, by store name. */
  heads(): Promise<Map<string, CID>>
  deleteHead(name: string): Promise<void>
  /** Roots kept by gc whatever the retention, with when and why they were pinned. */
  pins(): AsyncGenerator<Pin>
  pin(pin: Pin): Promise<void>
  unpin(cid: CID): Promise<void>
  /** Deletes blocks, all in one durable write where the storage can (LevelDB, IndexedDB). */
  deleteBlocks(cids: readonly CID[]): Promise<void>
  close(): Promise<void>
}

export interface Pin {
  readonly cid: CID
  /** A label: the store or file it came from. */
  readonly name?: string
  /** Milliseconds since the Unix epoch. */
  readonly time: number
}

/** A block's identity whatever its codec: its multihash bytes, as a string. */
export function blockKey(cid: CID): string {
  return bytesKey(cid.multihash.bytes)
}

/** The shared part of storages: commits under the gc lock. */
export abstract class BaseStorage implements Storage {
  abstract readonly blockstore: Blockstore
  abstract readonly datastore: Datastore
  readonly gcLock = new GcLock()

  commit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void> {
    return this.gcLock.shared(() => this.writeCommit(blocks, heads))
  }

  /** Writes blocks, then heads, durably and in that order (the gc lock is held). */
  protected abstract writeCommit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void>
  abstract head(name: string): Promise<CID | undefined>
  abstract heads(): Promise<Map<string, CID>>
  abstract deleteHead(name: string): Promise<void>
  abstract pins(): AsyncGenerator<Pin>
  abstract pin(pin: Pin): Promise<void>
  abstract unpin(cid: CID): Promise<void>
  abstract deleteBlocks(cids: readonly CID[]): Promise<void>
  abstract close(): Promise<void>
}

const HEADS = '/dagsync/heads'
const PINS = '/dagsync/pins'

/**
 * Storage on any blockstore and datastore (memory, IndexedDB, files). Blocks are written before
 * heads; how durable each write is, is the stores' own guarantee.
 */
export class BlockstoreStorage extends BaseStorage {
  readonly blockstore: Blockstore
  readonly datastore: Datastore

  constructor(blockstore: Blockstore, datastore: Datastore) {
    super()
    this.blockstore = blockstore
    this.datastore = datastore
  }

  protected async writeCommit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void> {
    for await (const _ of this.blockstore.putMany(blocks)) {
      // drain: putMany writes lazily
    }
    for (const [name, cid] of heads) await this.datastore.put(new Key(`${HEADS}/${name}`), cid.bytes)
  }

  async head(name: string): Promise<CID | undefined> {
    try {
      return CID.decode(await this.datastore.get(new Key(`${HEADS}/${name}`)))
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined
      throw err
    }
  }

  async heads(): Promise<Map<string, CID>> {
    const out = new Map<string, CID>()
    for await (const { key, value } of this.datastore.query({ prefix: HEADS }))
      out.set(key.baseNamespace(), CID.decode(value))
    return out
  }

  async deleteHead(name: string): Promise<void> {
    await this.datastore.delete(new Key(`${HEADS}/${name}`))
  }

  async *pins(): AsyncGenerator<Pin> {
    for await (const { value } of this.datastore.query({ prefix: PINS })) yield decodePin(value)
  }

  async pin(pin: Pin): Promise<void> {
    await this.datastore.put(new Key(`${PINS}/${pin.cid}`), encodePin(pin))
  }

  async unpin(cid: CID): Promise<void> {
    await this.datastore.delete(new Key(`${PINS}/${cid}`))
  }

  async deleteBlocks(cids: readonly CID[]): Promise<void> {
    for await (const _ of this.blockstore.deleteMany(cids)) {
      // drain
    }
  }

  async close(): Promise<void> {}
}

export function encodePin(pin: Pin): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ cid: pin.cid.toString(), name: pin.name, time: pin.time }))
}

export function decodePin(bytes: Uint8Array): Pin {
  const { cid, name, time } = JSON.parse(new TextDecoder().decode(bytes)) as {
    cid: string
    name?: string
    time: number
  }
  return { cid: CID.parse(cid), ...(name === undefined ? {} : { name }), time }
}

/** Storage in memory, for tests and scratch stores. */
export function memoryStorage(): BlockstoreStorage {
  return new BlockstoreStorage(new MemoryBlockstore(), new MemoryDatastore())
}
