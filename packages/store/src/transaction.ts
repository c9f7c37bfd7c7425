// A transaction: reads see the store at the transaction's start plus its own writes; writes
// are checked and encoded as they are made and applied as one commit when it returns.
import {
  type Block,
  bytesKey,
  collectCids,
  encodeMeta,
  InvalidValueError,
  isInlineCid,
  type KeepIf,
  type KeyInput,
  type MerkleSearchTree,
  type Op,
  type PreparedValue,
  prepareByteStream,
  prepareEncoded,
  prepareValue,
  type StoredEntry,
  type StoredValue,
  sameStoredValue,
  toKey,
} from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { resolveByteRef } from './byte-ref.ts'
import { ASSOC_CHECKED, type CheckedValue } from './checked-value.ts'
import { InvalidPathError, StoreError } from './errors.ts'
import { getPath, type Segment, setPath } from './path.ts'
import {
  type BinaryValue,
  binaryValue,
  type EntryMeta,
  type KeyInfo,
  keyInfo,
  type ReadApi,
  type StoreView,
  storeKey,
} from './view.ts'

interface PendingPut {
  readonly kind: 'put'
  readonly key: Uint8Array
  readonly stored: StoredValue
  readonly size: number
  readonly binary: boolean
  readonly keyIsBytes: boolean
}

/** A write waiting in a transaction. */
type Pending = PendingPut | { readonly kind: 'delete'; readonly key: Uint8Array }

/** Where a transaction puts the blocks of large values before they are committed, and finds blocks values link to. */
export interface BlockSink {
  add(block: Block): void
  has(cid: CID): Promise<boolean>
}

/** The writes a transaction can make (and, through ReadApi, its reads). */
export interface WriteApi {
  assoc(key: KeyInput, value: unknown): Promise<void>
  assocIn(path: readonly [KeyInput, ...Segment[]], value: unknown): Promise<void>
  updateIn(path: readonly [KeyInput, ...Segment[]], update: (current: unknown) => unknown): Promise<void>
  dissoc(key: KeyInput): Promise<void>
  bassoc(key: KeyInput, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void>
}

export class Transaction implements ReadApi, WriteApi {
  readonly #base: StoreView
  readonly #tree: MerkleSearchTree
  readonly #sink: BlockSink
  readonly #pending = new Map<string, Pending>()
  readonly #links: CID[] = []
  #open = true

  constructor(base: StoreView, tree: MerkleSearchTree, sink: BlockSink) {
    this.#base = base
    this.#tree = tree
    this.#sink = sink
  }

  /** The version this transaction started from. */
  get base(): StoreView {
    return this.#base
  }

  // --- reads: own writes first, then the base version -----------------------------------

  async get(key: KeyInput): Promise<unknown> {
    const pending = this.#lookup(key)
    if (pending === undefined) return this.#base.get(key)
    return pending.kind === 'delete' ? undefined : this.#tree.readValue(pending.stored)
  }

  async getIn(path: readonly [KeyInput, ...Segment[]]): Promise<unknown> {
    if (path.length === 0) throw new InvalidPathError('a path starts with a key')
    const [key, ...rest] = path
    return getPath(await this.get(key), rest)
  }

  async exists(key: KeyInput): Promise<boolean> {
    const pending = this.#lookup(key)
    return pending === undefined ? this.#base.exists(key) : pending.kind === 'put'
  }

  async getMeta(key: KeyInput): Promise<KeyInfo | undefined> {
    const pending = this.#lookup(key)
    if (pending === undefined) return this.#base.getMeta(key)
    if (pending.kind === 'delete') return undefined
    // A rewrite of what is there keeps its write time (see ops).
    const kept = await this.#unchanged(pending)
    if (kept !== undefined) return keyInfo(kept)
    return {
      key: pending.keyIsBytes ? pending.key : storeKey(pending.key, undefined),
      type: pending.binary ? 'binary' : 'value',
      lastWrite: new Date(),
      size: pending.size,
    }
  }

  async bget(key: KeyInput): Promise<BinaryValue | undefined> {
    const pending = this.#lookup(key)
    if (pending === undefined) return this.#base.bget(key)
    return pending.kind === 'delete' ? undefined : binaryValue(this.#tree, pending.stored, pending.size)
  }

  // --- writes -----------------------------------------------------------------------------

  async assoc(key: KeyInput, value: unknown): Promise<void> {
    this.#check()
    await this.#put(key, prepareValue(value), collectCids(value))
  }

  /**
   * A bulk write's put (see CheckedOps): the value as its check encoded it and the links it
   * found there, so the value is encoded once and what is written is what was checked.
   */
  async [ASSOC_CHECKED](key: KeyInput, checked: CheckedValue): Promise<void> {
    this.#check()
    await this.#put(key, prepareEncoded(checked.encoding), checked.links)
  }

  async #put(key: KeyInput, prepared: PreparedValue, links: readonly CID[]): Promise<void> {
    const k = toKey(key)
    await this.#holdLinks(links)
    for (const block of prepared.blocks) this.#sink.add(block)
    this.#set(k, {
      kind: 'put',
      key: k,
      stored: prepared.stored,
      size: prepared.size,
      binary: false,
      keyIsBytes: typeof key !== 'string',
    })
  }

  async assocIn(path: readonly [KeyInput, ...Segment[]], value: unknown): Promise<void> {
    if (path.length === 0) throw new InvalidPathError('a path starts with a key')
    const [key, ...rest] = path
    await this.assoc(key, setPath(await this.get(key), rest, value))
  }

  async updateIn(path: readonly [KeyInput, ...Segment[]], update: (current: unknown) => unknown): Promise<void> {
    const current = await this.getIn(path)
    await this.assocIn(path, await update(current))
  }

  async dissoc(key: KeyInput): Promise<void> {
    this.#check()
    const k = toKey(key)
    this.#set(k, { kind: 'delete', key: k })
  }

  /** Writes a byte string of any size, streamed in chunks: values over 1 MiB are never held whole. */
  async bassoc(key: KeyInput, bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    this.#check()
    const k = toKey(key)
    let size = 0
    const counted = async function* () {
      for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
        size += chunk.length
        yield chunk
      }
    }
    const stored = await prepareByteStream(counted(), async (block) => this.#sink.add(block))
    this.#set(k, { kind: 'put', key: k, stored, size, binary: true, keyIsBytes: typeof key !== 'string' })
  }

  /**
   * Writes the binary value whose bytes `ref` names, without the bytes being sent again: a raw
   * block, or a byte string stored out of line (a value block or a chunk index) that storage
   * holds. The entry is the one `bassoc` of those bytes writes (see byte-ref.ts).
   */
  async bassocRef(key: KeyInput, ref: CID): Promise<void> {
    this.#check()
    const k = toKey(key)
    const resolved = await resolveByteRef(ref, async (cid) =>
      (await this.#sink.has(cid)) ? this.#tree.blockBytes(cid) : undefined,
    )
    // Linked, not copied: checked again as the commit is written, like any link of a value.
    if (resolved.link !== undefined) this.#links.push(resolved.link)
    for (const block of resolved.blocks) this.#sink.add(block)
    this.#set(k, {
      kind: 'put',
      key: k,
      stored: resolved.stored,
      size: resolved.size,
      binary: true,
      keyIsBytes: typeof key !== 'string',
    })
  }

  // --- for the store ------------------------------------------------------------------------

  /** Ends the transaction: later calls fail (a transaction must not outlive its function). */
  close(): void {
    this.#open = false
  }

  get size(): number {
    return this.#pending.size
  }

  /**
   * The transaction's writes as tree ops, stamped with the commit's time. A put that finds its
   * key as it would leave it (the same value, type and key form) leaves the entry alone, write
   * time included, so a transaction of nothing else changes no root and makes no commit.
   */
  ops(time: number): Op[] {
    const ops: Op[] = []
    // Entries of one commit differ in their metadata only by type, key form and size: each kind
    // is encoded once (encoding it per entry was a tenth of a bulk load).
    const metas = new Map<number, Uint8Array>()
    for (const p of this.#pending.values()) {
      if (p.kind === 'delete') {
        ops.push({ type: 'delete', key: p.key })
        continue
      }
      const kind = p.size * 4 + (p.binary ? 2 : 0) + (p.keyIsBytes ? 1 : 0)
      let encodedMeta = metas.get(kind)
      if (encodedMeta === undefined) {
        const meta: EntryMeta = { t: p.binary ? 'b' : 'v', w: time, s: p.size }
        if (p.keyIsBytes) meta.k = 1
        encodedMeta = encodeMeta(meta)
        metas.set(kind, encodedMeta)
      }
      ops.push({ type: 'put', key: p.key, stored: p.stored, encodedMeta, keepIf: keepIf(p) })
    }
    return ops
  }

  /** The base version's entry for a put, if the put leaves it as it is (see ops). */
  async #unchanged(put: PendingPut): Promise<StoredEntry | undefined> {
    const entry = await this.#tree.getEntry(this.#base.root, put.key)
    if (entry === undefined || !sameStoredValue(entry.stored, put.stored)) return undefined
    return keepIf(put)(entry.meta) ? entry : undefined
  }

  /** The blocks this transaction's values link to (the store checks them again as it commits). */
  get links(): readonly CID[] {
    return this.#links
  }

  async #holdLinks(links: readonly CID[]): Promise<void> {
    this.#links.push(...(await heldLinks(links, this.#sink, 'the value')))
  }

  #check(): void {
    if (!this.#open) throw new StoreError('this transaction has ended; write inside the function given to transact')
  }

  #lookup(key: KeyInput): Pending | undefined {
    return this.#pending.get(bytesKey(toKey(key)))
  }

  #set(key: Uint8Array, pending: Pending): void {
    this.#pending.set(bytesKey(key), pending)
  }
}

/**
 * Whether an entry holding a put's very value is already as the put would leave it: the same
 * type and key form (its size follows from the value and type). One function per case, shared.
 */
function keepIf(put: PendingPut): KeepIf {
  return KEEP[(put.binary ? 2 : 0) + (put.keyIsBytes ? 1 : 0)]
}

const KEEP: readonly KeepIf[] = [false, true].flatMap((binary) =>
  [false, true].map((keyIsBytes): KeepIf => {
    const t = binary ? 'b' : 'v'
    return (meta) => (meta as Partial<EntryMeta> | undefined)?.t === t && (meta?.k === 1) === keyIsBytes
  }),
)

/**
 * The links of a value or commit metadata that name blocks (not inline ones), once each is
 * found in `blocks`; refuses a link to a block it does not hold. Every walk (verify, gc, a
 * reader's sync) follows links and would stop at a missing block. Storage holds only whole DAGs,
 * so the linked block being there means all it links to is.
 */
export async function heldLinks(links: readonly CID[], blocks: Pick<BlockSink, 'has'>, what: string): Promise<CID[]> {
  const held: CID[] = []
  for (const link of links) {
    if (isInlineCid(link)) continue
    if (!(await blocks.has(link)))
      throw new InvalidValueError(
        `${what} links to ${link}, which this storage does not hold: import or pin that DAG first (readers and gc follow every link)`,
      )
    held.push(link)
  }
  return held
}
