// A follower's writes: sent to the store's writer (the peer that last answered one, else the
// peers likely to hold the store), which commits them if this peer is on its allow-list; each
// resolves once the replica holds the commit it made.
import {
  type CheckedOps,
  type Commit,
  checkOps,
  InvalidOpError,
  PreconditionFailedError,
  type TransactOptions,
  type TxResult,
  type WriteOp,
} from '@dagsync/store'
import * as dagCbor from '@ipld/dag-cbor'
import type { PeerId } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { MAX_WRITE_ID_LENGTH } from './applied-writes.ts'
import { RemoteError, RemoteWriteError, UnauthorizedError } from './errors.ts'
import type { FollowerContext } from './follower-context.ts'
import { preconditionToWire } from './precondition-wire.ts'
import { WRITE_PROTOCOL } from './remote-write.ts'
import type { ReplicaSync } from './replica-sync.ts'
import { call, MAX_FRAME_BYTES } from './rpc.ts'

export interface RemoteTransactOptions extends TransactOptions {
  /**
   * Names the write, 1 to 128 characters, unique among this peer's writes to the store: sent
   * again with the same id (after its answer was lost), it is answered with the commit that
   * applied it rather than applied twice. @default a new random id, so the tries of one call are
   * applied once
   */
  writeId?: string
}

/** A random write id: 32 hex characters. */
function newWriteId(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export class WriteClient {
  readonly #ctx: FollowerContext
  readonly #sync: ReplicaSync
  /** The peer that took the last write: the writer, tried first. */
  #writer: PeerId | undefined

  constructor(ctx: FollowerContext, sync: ReplicaSync) {
    this.#ctx = ctx
    this.#sync = sync
  }

  /**
   * Sends a list of ops (a bulk write: see @dagsync/store's WriteOp) to the store's writer, which
   * applies them as one transaction, one commit, if this peer is on its allow-list. The list is
   * checked here first, with the checks and limits the writer holds it to (MAX_BULK_OPS,
   * MAX_BULK_BYTES), so a bad list fails before it is sent. Resolves with the commit once this
   * replica holds it (`commit: null` if the writes changed nothing).
   */
  async transact(
    ops: readonly WriteOp[] | CheckedOps,
    options: RemoteTransactOptions = {},
  ): Promise<TxResult<undefined>> {
    const { writeId = newWriteId() } = options
    if (writeId.length === 0 || writeId.length > MAX_WRITE_ID_LENGTH)
      throw new RemoteWriteError(`a write id is 1 to ${MAX_WRITE_ID_LENGTH} characters, not ${writeId.length}`)
    const request = {
      s: this.#sync.id,
      ops: checkOps(ops).ops,
      w: writeId,
      ...(options.meta === undefined ? {} : { m: options.meta }),
      ...(options.ifMatch === undefined ? {} : { p: preconditionToWire(options.ifMatch) }),
    }
    // Within the limits the ops fit in one message; large commit metadata could still overflow it.
    const size = dagCbor.encode(request).length
    if (size > MAX_FRAME_BYTES)
      throw new RemoteWriteError(
        `the write and its metadata come to ${size} bytes, over the ${MAX_FRAME_BYTES / 1024 / 1024} MiB of one message: make the metadata smaller`,
      )
    const candidates = await this.#candidates()
    let lastError: unknown
    for (const peer of candidates) {
      // A connection closing as the write started fails it without an answer: that peer is asked
      // once more, on a new connection (not after a timeout). The write id makes a write that did
      // reach the writer count once.
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await this.#ask(peer, request, attempt === 2)
          if (result !== undefined) return result
          break
        } catch (err) {
          throwIfRefused(err)
          lastError = err
          const name = (err as Error).name
          if (attempt === 2 || err instanceof RemoteError || name === 'TimeoutError' || name === 'AbortError') break
        }
      }
    }
    throw new RemoteWriteError(
      candidates.length === 0
        ? `no connected peer can take writes for store ${this.#sync.id}`
        : `no peer accepted the write (last: ${(lastError as Error)?.message ?? 'none'})`,
      { cause: lastError },
    )
  }

  /**
   * The write's own commit: the head, unless later commits (another writer's, or this write
   * answered again long after it was applied) came since; then found in the replica's history.
   */
  async #commitOf(cid: CID, seq: number, head: Commit | null): Promise<Commit | null> {
    if (head === null || head.cid.equals(cid)) return head
    for await (const commit of this.#sync.store.log({ limit: head.seq - seq + 1 }))
      if (commit.cid.equals(cid)) return commit
    return head
  }

  /** Sends the write to `peer`; its answer, or undefined if it ended without one. */
  async #ask(
    peer: PeerId,
    request: Record<string, unknown>,
    newConnection: boolean,
  ): Promise<TxResult<undefined> | undefined> {
    // libp2p keeps a closing connection in its table for a while: `force` dials past it.
    for await (const reply of call(this.#ctx.libp2p, peer, WRITE_PROTOCOL, request, {
      signal: AbortSignal.timeout(this.#ctx.syncTimeoutMs),
      force: newConnection,
    })) {
      this.#writer = peer
      if (reply.a instanceof Uint8Array) await this.#sync.offerBytes(reply.a, peer)
      const cid = CID.asCID(reply.c)
      const seq = typeof reply.q === 'number' ? reply.q : 0
      if (cid === null) return { value: undefined, commit: null }
      const head = await this.#sync.synced(seq, AbortSignal.timeout(this.#ctx.syncTimeoutMs))
      return { value: undefined, commit: await this.#commitOf(cid, seq, head) }
    }
    return undefined
  }

  /**
   * The peers to send a write to. Right after a start (a page reload) the replica is there at
   * once but the daemon may still be dialling: with no peer connected, wait for one, up to
   * syncTimeoutMs, rather than fail a write made a moment too early.
   */
  async #candidates(): Promise<PeerId[]> {
    const preferred = this.#writer === undefined ? this.#sync.from : [this.#writer, ...this.#sync.from]
    const found = this.#ctx.peersFor(this.#sync.topic, preferred)
    if (found.length > 0) return found
    const { libp2p } = this.#ctx
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        libp2p.removeEventListener('peer:connect', done)
        resolve()
      }
      const timer = setTimeout(done, this.#ctx.syncTimeoutMs)
      libp2p.addEventListener('peer:connect', done)
    })
    return this.#ctx.peersFor(this.#sync.topic, preferred)
  }
}

/** Throws, as this package's error, the writer's refusal of the write itself: no other peer is asked. */
function throwIfRefused(err: unknown): void {
  if (!(err instanceof RemoteError)) return
  if (err.code === 'unauthorized') throw new UnauthorizedError(err.message)
  if (err.code === 'precondition-failed')
    throw new PreconditionFailedError(err.message.replace(/^precondition-failed: /, ''))
  // The writer refused an op for what it holds (a put-in into a value that is not a map, a ref it lacks).
  if (err.code === 'invalid' && err.index !== undefined)
    throw new InvalidOpError(err.index, err.message.replace(/^invalid: /, ''))
  if (err.code === 'invalid' || err.code === 'too-large' || err.code === 'bad-request')
    throw new RemoteWriteError(err.message)
}
