// The cache of decoded nodes by CID that every read goes through (see CidCache below).
import type { CID } from 'multiformats/cid'

interface Item<V> {
  readonly cid: CID
  readonly key: number
  readonly value: V
  used: boolean
}

/**
 * A cache of values by CID, bounded to `size` entries, evicting by the CLOCK algorithm (an
 * approximation of least-recently-used). It sits on the path of every node read, so a hit
 * allocates nothing and mutates no Map: the key is an integer taken from the CID's sha2-256
 * digest, a hit is confirmed by comparing CIDs (two CIDs sharing the integer just miss), and
 * recency is one flag per entry that the clock hand clears as it looks for a victim.
 */
export class CidCache<V> {
  readonly #size: number
  readonly #index = new Map<number, number>()
  readonly #items: Item<V>[] = []
  #hand = 0
  /** Values recently superseded (see `set`): diffs against the last versions still hit. */
  readonly #retired = new Map<number, Item<V>>()
  /** The same values in the order they were retired, a ring: the next to drop is at `#retiredNext`. */
  readonly #retiredOrder: (Item<V> | undefined)[]
  #retiredNext = 0

  constructor(size: number) {
    this.#size = Math.max(1, size)
    this.#retiredOrder = new Array(Math.max(64, this.#size >> 3)).fill(undefined)
  }

  get(cid: CID): V | undefined {
    const key = slot(cid)
    const at = this.#index.get(key)
    if (at === undefined) {
      const retired = this.#retired.get(key)
      return retired?.cid.equals(cid) ? retired.value : undefined
    }
    const item = this.#items[at]
    // Parents link children by the very CID objects the cache was filled with: compare identity first.
    if (item.cid !== cid && !item.cid.equals(cid)) return undefined
    item.used = true
    return item.value
  }

  /**
   * Adds a value. With `replaces`, the CID of a value the new one supersedes (a node's next
   * version), the new value takes that one's place and recency if it is cached, so superseded
   * versions do not crowd out live ones; the superseded value moves to a small area of its own.
   */
  set(cid: CID, value: V, replaces?: CID): void {
    const key = slot(cid)
    const item: Item<V> = { cid, key, value, used: false }
    const at = this.#index.get(key)
    if (at !== undefined) {
      this.#items[at] = item
      return
    }
    if (replaces !== undefined) {
      const old = slot(replaces)
      const place = this.#index.get(old)
      if (place !== undefined && this.#items[place].cid.equals(replaces)) {
        const superseded = this.#items[place]
        item.used = superseded.used
        this.#index.delete(old)
        this.#index.set(key, place)
        this.#items[place] = item
        this.#retire(superseded)
        return
      }
    }
    if (this.#items.length < this.#size) {
      this.#index.set(key, this.#items.length)
      this.#items.push(item)
      return
    }
    // Give every recently used entry a second chance, then replace the first one that has none.
    while (this.#items[this.#hand].used) {
      this.#items[this.#hand].used = false
      this.#hand = (this.#hand + 1) % this.#size
    }
    this.#index.delete(this.#items[this.#hand].key)
    this.#index.set(key, this.#hand)
    this.#items[this.#hand] = item
    this.#hand = (this.#hand + 1) % this.#size
  }

  #retire(item: Item<V>): void {
    const order = this.#retiredOrder
    const oldest = order[this.#retiredNext]
    // It may have been replaced in the Map by a later value with the same key.
    if (oldest !== undefined && this.#retired.get(oldest.key) === oldest) this.#retired.delete(oldest.key)
    order[this.#retiredNext] = item
    this.#retiredNext = (this.#retiredNext + 1) % order.length
    this.#retired.set(item.key, item)
  }
}

/** 30 bits of the digest's tail: uniformly distributed for sha2-256, and a small integer for Map. */
function slot(cid: CID): number {
  const b = cid.bytes
  const n = b.length
  return ((b[n - 1] | (b[n - 2] << 8) | (b[n - 3] << 16) | (b[n - 4] << 24)) >>> 2) & 0x3fffffff
}
