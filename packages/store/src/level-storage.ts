// Storage in one abstract-level database: LevelDB on disk (classic-level, see level.ts) or
// IndexedDB in browsers (browser-level, see browser.ts). Blocks, store heads, pins and a datastore
// for the rest of the node each live in their own sublevel. A group of commits is one atomic batch
// (one LevelDB write with `sync: true`, or one IndexedDB transaction), so blocks and heads land
// together before any of its transactions is acknowledged: a crash leaves every head at an
// acknowledged commit with all of its blocks.
import { type Block, collectBytes } from '@dagsync/tree'
import { BaseBlockstore } from 'blockstore-core'
import { LevelDatastore } from 'datastore-level'
import { NotFoundError } from 'interface-store'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { BaseStorage, decodePin, encodePin, type Pin } from './storage.ts'

type Bytes = Uint8Array

/** What this module uses of an abstract-level database (classic-level, browser-level). */
export interface Database {
  sublevel(name: string, options: { keyEncoding: string; valueEncoding: string }): unknown
  /** `sync` asks LevelDB to fsync; IndexedDB transactions ignore it. */
  batch(operations: never[], options?: { sync?: boolean }): Promise<void>
  /** A batch built op by op: classic-level copies each op as it is added, at less cost per op. */
  batch(): ChainedBatch
  close(): Promise<void>
}

interface ChainedBatch {
  put(key: unknown, value: unknown, options: { sublevel: unknown }): void
  write(options?: { sync?: boolean }): Promise<void>
}

/** What this module uses of a sublevel (abstract-level's generics are more than it needs). */
interface Sublevel<K> {
  get(key: K): Promise<Bytes | undefined>
  getMany(keys: K[]): Promise<(Bytes | undefined)[]>
  put(key: K, value: Bytes, options?: { sync?: boolean }): Promise<void>
  del(key: K, options?: { sync?: boolean }): Promise<void>
  iterator(): AsyncIterable<[K, Bytes]>
}

function sublevel<K>(db: Database, name: string, keyEncoding: 'view' | 'utf8'): Sublevel<K> {
  return db.sublevel(name, { keyEncoding, valueEncoding: 'view' }) as unknown as Sublevel<K>
}

const RAW = 0x55

/** Blocks by multihash (the codec is not part of a block's identity), as blockstore-level keeps them. */
class LevelBlockstore extends BaseBlockstore {
  readonly #blocks: Sublevel<Bytes>

  constructor(blocks: Sublevel<Bytes>) {
    super()
    this.#blocks = blocks
  }

  override async put(cid: CID, bytes: Bytes | Iterable<Bytes> | AsyncIterable<Bytes>): Promise<CID> {
    await this.#blocks.put(cid.multihash.bytes, whole(await collectBytes(bytes)))
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Bytes> {
    const bytes = await this.#blocks.get(cid.multihash.bytes)
    if (bytes === undefined) throw new NotFoundError(`block ${cid} not found`)
    yield bytes
  }

  /**
   * Reads the blocks of `source` in one LevelDB call per 64 (a sync reading its deltas' bases:
   * one native round trip each costs more than the read); a missing one throws NotFoundError in
   * its turn, after the ones before it.
   */
  override async *getMany(
    source: Iterable<CID> | AsyncIterable<CID>,
  ): AsyncGenerator<{ cid: CID; bytes: AsyncGenerator<Bytes> }> {
    let batch: CID[] = []
    const read = async function* (
      this: LevelBlockstore,
      cids: CID[],
    ): AsyncGenerator<{ cid: CID; bytes: AsyncGenerator<Bytes> }> {
      const found = await this.#blocks.getMany(cids.map((cid) => cid.multihash.bytes))
      for (const [i, cid] of cids.entries()) {
        const bytes = found[i]
        if (bytes === undefined) throw new NotFoundError(`block ${cid} not found`)
        yield { cid, bytes: once(bytes) }
      }
    }
    for await (const cid of source) {
      batch.push(cid)
      if (batch.length === 64) {
        yield* read.call(this, batch)
        batch = []
      }
    }
    if (batch.length > 0) yield* read.call(this, batch)
  }

  override async has(cid: CID): Promise<boolean> {
    return (await this.#blocks.get(cid.multihash.bytes)) !== undefined
  }

  override async delete(cid: CID): Promise<void> {
    await this.#blocks.del(cid.multihash.bytes)
  }

  override async *getAll(): AsyncGenerator<{ cid: CID; bytes: AsyncGenerator<Bytes> }> {
    for await (const [key, value] of this.#blocks.iterator()) {
      yield { cid: CID.createV1(RAW, Digest.decode(key)), bytes: once(value) }
    }
  }
}

/**
 * The bytes in a buffer of their own. A block or CID can be a view into a larger buffer (a
 * network frame, a shared slab), and IndexedDB stores a view's whole buffer.
 */
function whole(bytes: Bytes): Bytes {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

async function* once(bytes: Bytes): AsyncGenerator<Bytes> {
  yield bytes
}

export class LevelStorage extends BaseStorage {
  readonly blockstore: LevelBlockstore
  readonly datastore: LevelDatastore
  readonly #db: Database
  readonly #blocks: Sublevel<Bytes>
  readonly #heads: Sublevel<string>
  readonly #pins: Sublevel<string>

  constructor(db: Database) {
    super()
    this.#db = db
    this.#blocks = sublevel<Bytes>(db, 'blocks', 'view')
    this.#heads = sublevel<string>(db, 'heads', 'utf8')
    this.#pins = sublevel<string>(db, 'pins', 'utf8')
    this.blockstore = new LevelBlockstore(this.#blocks)
    this.datastore = new LevelDatastore(sublevel<string>(db, 'datastore', 'utf8') as never)
  }

  protected async writeCommit(blocks: readonly Block[], heads: ReadonlyMap<string, CID>): Promise<void> {
    const batch = this.#db.batch()
    for (const { cid, bytes } of blocks) batch.put(cid.multihash.bytes, whole(bytes), { sublevel: this.#blocks })
    for (const [name, cid] of heads) batch.put(name, whole(cid.bytes), { sublevel: this.#heads })
    await batch.write({ sync: true })
  }

  async head(name: string): Promise<CID | undefined> {
    const bytes = await this.#heads.get(name)
    return bytes === undefined ? undefined : CID.decode(bytes)
  }

  async heads(): Promise<Map<string, CID>> {
    const out = new Map<string, CID>()
    for await (const [name, bytes] of this.#heads.iterator()) out.set(name, CID.decode(bytes))
    return out
  }

  async deleteHead(name: string): Promise<void> {
    await this.#heads.del(name, { sync: true })
  }

  async *pins(): AsyncGenerator<Pin> {
    for await (const [, bytes] of this.#pins.iterator()) yield decodePin(bytes)
  }

  async pin(pin: Pin): Promise<void> {
    await this.#pins.put(pin.cid.toString(), encodePin(pin), { sync: true })
  }

  async unpin(cid: CID): Promise<void> {
    await this.#pins.del(cid.toString(), { sync: true })
  }

  async deleteBlocks(cids: readonly CID[]): Promise<void> {
    const ops = cids.map((cid) => ({ type: 'del' as const, sublevel: this.#blocks, key: cid.multihash.bytes }))
    await this.#db.batch(ops as never, { sync: true })
  }

  async close(): Promise<void> {
    await this.#db.close()
  }
}
