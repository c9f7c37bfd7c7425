// A store's write path: transactions run one at a time, in arrival order, in memory; those that
// arrive together are made durable in one storage write (group commit), each still its own
// commit, and the next group runs while the one before it is being synced.
import { type Block, collectCids, InvalidValueError, type MerkleSearchTree, type Meta } from '@dagsync/tree'
import type { CID } from 'multiformats/cid'
import { type Commit, encodeCommit } from './commit.ts'
import { StoreError } from './errors.ts'
import type { PendingBlocks } from './pending-blocks.ts'
import type { Storage } from './storage.ts'
import { heldLinks, Transaction } from './transaction.ts'
import { StoreView } from './view.ts'

export interface TxResult<T> {
  /** What the transaction's function returned. */
  readonly value: T
  /** The commit it made, or null if it changed nothing. */
  readonly commit: Commit | null
}

/** A transaction waiting for its turn. */
export interface TxRequest {
  readonly run: (tx: Transaction) => unknown
  readonly meta?: Meta
  readonly resolve: (result: TxResult<unknown>) => void
  readonly reject: (err: unknown) => void
}

/** A group of transactions run in memory, waiting to be made durable together. */
interface Group {
  readonly tip: Commit | null
  readonly commits: readonly Commit[]
  /** Blocks its values and metadata link to, held when they were written. */
  readonly links: readonly CID[]
  readonly results: readonly { request: TxRequest; value: unknown; commit: Commit | null }[]
  readonly blocks: readonly Block[]
}

export interface GroupCommitInit {
  readonly name: string
  readonly storage: Storage
  readonly overlay: PendingBlocks
  readonly tree: MerkleSearchTree
  readonly bits: number
  readonly now: () => number
  /** The last durable commit. */
  readonly head: () => Commit | null
  /** Called once `commits` are durable, `head` the last of them. */
  readonly setHead: (head: Commit, commits: readonly Commit[]) => void
}

export class GroupCommit {
  readonly #init: GroupCommitInit
  readonly #queue: TxRequest[] = []
  #writing: Promise<void> | null = null
  #flushFailed = false

  constructor(init: GroupCommitInit) {
    this.#init = init
  }

  /** Queues a transaction; it runs once those before it have. */
  enqueue(request: TxRequest): void {
    this.#queue.push(request)
    void this.#drain()
  }

  /** Waits until every queued transaction is durable (or has failed). */
  async idle(): Promise<void> {
    while (this.#writing !== null) await this.#writing
  }

  #drain(): Promise<void> {
    this.#writing ??= this.#write().catch((err) => {
      this.#writing = null
      throw err
    })
    return this.#writing
  }

  async #write(): Promise<void> {
    // Group N+1 runs its transactions while group N is being synced; syncs stay in order.
    let flushed: Promise<boolean> = Promise.resolve(true)
    let tip = this.#init.head()
    for (;;) {
      while (this.#queue.length > 0) {
        if (this.#flushFailed) {
          // Groups built on a failed one failed with it: start again from the durable head.
          await flushed
          this.#flushFailed = false
          tip = this.#init.head()
        }
        const group = await this.#runGroup(this.#queue.splice(0), tip)
        tip = group.tip
        flushed = this.#flush(group, flushed)
      }
      await flushed
      // Checked and cleared in one step, so a transaction queued from here on starts a new run.
      if (this.#queue.length === 0) {
        this.#writing = null
        return
      }
    }
  }

  /** Runs a group of transactions on top of each other, in memory; each that writes makes a commit. */
  async #runGroup(requests: TxRequest[], start: Commit | null): Promise<Group> {
    const { overlay, tree } = this.#init
    let tip = start
    const commits: Commit[] = []
    const links: CID[] = []
    const results: { request: TxRequest; value: unknown; commit: Commit | null }[] = []
    for (const request of requests) {
      const mark = overlay.mark()
      const tx = new Transaction(new StoreView(tree, tip), tree, overlay)
      try {
        const value = await request.run(tx)
        tx.close()
        let commit: Commit | null = null
        if (tx.size > 0) {
          const time = commitTime(this.#init.now(), tip?.time ?? 0)
          const base = tip?.tree ?? tree.emptyRoot
          const root = await tree.batch(base, tx.ops(time))
          if (!root.equals(base)) {
            const made = encodeCommit({
              tree: root,
              prev: tip?.cid ?? null,
              seq: (tip?.seq ?? 0) + 1,
              time,
              ...(request.meta === undefined ? {} : { meta: request.meta }),
              bits: this.#init.bits,
            })
            // Checked once the encoding has checked the metadata's shape.
            const metaLinks =
              request.meta === undefined
                ? []
                : await heldLinks(collectCids(request.meta), overlay, "the commit's metadata")
            overlay.add(made.block)
            commit = made.commit
            commits.push(commit)
            links.push(...tx.links, ...metaLinks)
            tip = commit
          }
        }
        results.push({ request, value, commit })
      } catch (err) {
        tx.close()
        overlay.rollback(mark)
        request.reject(err)
      }
    }
    return { tip, commits, links, results, blocks: overlay.seal() }
  }

  /**
   * Makes a group durable after the one before it, then moves the head and answers its
   * transactions. Resolves false if the group (or one it was built on) could not be written:
   * then none of its transactions is acknowledged.
   */
  async #flush(group: Group, before: Promise<boolean>): Promise<boolean> {
    const { storage, name } = this.#init
    const { tip, commits, links, results, blocks } = group
    let failure: unknown
    if (!(await before)) {
      failure = new StoreError('an earlier group of commits, which this one builds on, could not be made durable')
    } else if (commits.length > 0 && tip !== null) {
      try {
        // The linked blocks were held when written; a gc since may have taken them (nothing
        // kept them then). Checked again where no gc can sweep until the commit is written.
        await storage.gcLock.shared(async () => {
          for (const link of links) {
            if (!(await storage.blockstore.has(link)))
              throw new InvalidValueError(
                `${link}, which a value links to, was collected by gc before it was committed`,
              )
          }
          await storage.commit(blocks, new Map([[name, tip.cid]]))
        })
        this.#init.setHead(tip, commits)
      } catch (err) {
        failure = new StoreError(`could not make commit ${tip.seq} durable: ${(err as Error).message}`, { cause: err })
      }
    }
    this.#init.overlay.release(blocks)
    if (failure !== undefined) this.#flushFailed = true
    for (const { request, value, commit } of results) {
      if (failure === undefined) request.resolve({ value, commit })
      else request.reject(failure)
    }
    return failure === undefined
  }
}

/** A commit's time: the clock's, in whole ms as commits hold it, never before the previous commit's. */
function commitTime(now: number, previous: number): number {
  const time = Math.floor(now)
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new StoreError(`the clock gave ${now}; commit times are milliseconds since 1970, from 0 to 2^53 - 1`)
  }
  return Math.max(time, previous)
}
