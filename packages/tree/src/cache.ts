// The cache of decoded nodes by CID that every read goes through (see CidCache below).
import type { CID } from 'multiformats/cid'

interface Item<V> {
  readonly cid: CID
  readonly key: number
  readonly value: V
  readonly weight: number
  used: boolean
}

/**
 * A cache of values by CID, bounded to a total weight (by default each value weighs 1: a count),
 * evicting by the CLOCK algorithm (an approximation of least-recently-used). It sits on the path of every node read, so a hit
 * allocates nothing and mutates no Map: the key is an integer taken from the CID's sha2-256
 * digest, a hit is confirmed by comparing CIDs (two CIDs sharing the integer just miss), and
 * recency is one flag per entry that the clock hand clears as it looks for a victim.
 */
export class CidCache<V> {
  readonly #maxWeight: number
  readonly #weigh: (value: V) => number
  readonly #index = new Map<number, number>()
  /** Entries by slot; an evicted entry leaves a hole (undefined) that the next one fills. */
  readonly #items: (Item<V> | undefined)[] = []
  readonly #holes: number[] = []
  #weight = 0
  #hand = 0
  /** Values recently superseded (see `set`): diffs against the last versions still hit. */
  readonly #retired = new Map<number, Item<V>>()
  /** The same values in the order they were retired, a ring: the next to drop is at `#retiredNext`. */
  readonly #retiredOrder: (Item<V> | undefined)[]
  #retiredNext = 0

  /**
   * `maxWeight`: the most the entries may weigh together (one entry is kept whatever it weighs);
   * `weigh`: a value's weight (default 1); `retired`: how many superseded values are kept apart
   * (default an eighth of `maxWeight`, at least 64).
   */
  constructor(maxWeight: number, weigh: (value: V) => number = () => 1, retired = maxWeight >> 3) {
    this.#maxWeight = Math.max(1, maxWeight)
    this.#weigh = weigh
    this.#retiredOrder = new Array(Math.max(64, retired)).fill(undefined)
  }

  /** The total weight of the entries (superseded values kept apart not counted). */
  get weight(): number {
    return this.#weight
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
    if (item === undefined || (item.cid !== cid && !item.cid.equals(cid))) return undefined
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
    const item: Item<V> = { cid, key, value, weight: this.#weigh(value), used: false }
    const at = this.#index.get(key)
    const current = at === undefined ? undefined : this.#items[at]
    if (at !== undefined && current !== undefined) {
      this.#weight += item.weight - current.weight
      this.#items[at] = item
      this.#fit(at)
      return
    }
    if (replaces !== undefined) {
      const old = slot(replaces)
      const place = this.#index.get(old)
      const superseded = place === undefined ? undefined : this.#items[place]
      if (place !== undefined && superseded?.cid.equals(replaces)) {
        item.used = superseded.used
        this.#index.delete(old)
        this.#index.set(key, place)
        this.#items[place] = item
        this.#weight += item.weight - superseded.weight
        this.#retire(superseded)
        this.#fit(place)
        return
      }
    }
    this.#weight += item.weight
    const place = this.#holes.pop() ?? this.#items.length
    this.#items[place] = item
    this.#index.set(key, place)
    this.#fit(place)
  }

  /** Evicts entries (never the one at `keep`) until the total weight is within bounds. */
  #fit(keep: number): void {
    const items = this.#items
    while (this.#weight > this.#maxWeight && this.#index.size > 1) {
      // Give every recently used entry a second chance, then evict the first one that has none.
      this.#hand = (this.#hand + 1) % items.length
      const item = items[this.#hand]
      if (item === undefined || this.#hand === keep) continue
      if (item.used) {
        item.used = false
        continue
      }
      this.#index.delete(item.key)
      items[this.#hand] = undefined
      this.#holes.push(this.#hand)
      this.#weight -= item.weight
    }
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
