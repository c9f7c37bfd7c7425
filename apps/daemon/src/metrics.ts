// Prometheus metrics (prom-client), read at scrape time from the node and its stores.
import type { DagsyncNode } from '@dagsync/peer'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface MetricsInit {
  readonly node: DagsyncNode
  /** The repo's local names of stores (id → name), read at each scrape for the `name` label. */
  readonly names?: () => Promise<ReadonlyMap<string, string>>
}

export class Metrics {
  readonly registry = new Registry()
  readonly #commit: Histogram
  readonly #sync: Histogram

  constructor({ node, names = async () => new Map() }: MetricsInit) {
    const registry = this.registry
    // prom-client's own names start with process_ and nodejs_: dagsync_process_cpu_seconds_total.
    collectDefaultMetrics({ register: registry, prefix: 'dagsync_' })
    /** A store's first local name, or "" (a label must have a value): dashboards show it beside the id. */
    const nameOf = (all: ReadonlyMap<string, string>, id: string) => all.get(id) ?? ''
    new Gauge({
      name: 'dagsync_peers',
      help: 'Connected peers',
      registers: [registry],
      collect() {
        this.set(node.libp2p.getPeers().length)
      },
    })
    new Gauge({
      name: 'dagsync_stores',
      help: 'Stores served (role="writer") and followed (role="replica" or "sparse")',
      labelNames: ['role'],
      registers: [registry],
      collect() {
        this.set({ role: 'writer' }, node.servedStores.length)
        this.set({ role: 'replica' }, node.followers.filter((f) => !f.sparse).length)
        this.set({ role: 'sparse' }, node.followers.filter((f) => f.sparse).length)
      },
    })
    new Gauge({
      name: 'dagsync_store_head_seq',
      help: 'The seq of the commit each store holds (store: its id, name: its local name or "")',
      labelNames: ['store', 'name', 'role'],
      registers: [registry],
      async collect() {
        const all = await names()
        this.reset()
        for (const s of node.servedStores)
          this.set({ store: s.id, name: nameOf(all, s.id), role: 'writer' }, s.store.head?.seq ?? 0)
        for (const f of node.followers)
          this.set(
            { store: f.id, name: nameOf(all, f.id), role: f.sparse ? 'sparse' : 'replica' },
            f.store.head?.seq ?? 0,
          )
      },
    })
    new Gauge({
      name: 'dagsync_store_sync_lag',
      help: 'Commits a followed store is behind the newest announced (store: its id, name: its local name or "")',
      labelNames: ['store', 'name'],
      registers: [registry],
      async collect() {
        const all = await names()
        this.reset()
        for (const f of node.followers) this.set({ store: f.id, name: nameOf(all, f.id) }, f.status().lag)
      },
    })
    const stats = node.stats
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset()
          this.inc(read())
        },
      })
    counter('dagsync_syncs_total', 'Syncs completed by followed stores', () => stats.syncs)
    counter('dagsync_sync_received_bytes_total', 'Bytes received on the fast path by syncs', () => stats.syncWireBytes)
    counter('dagsync_blocks_fetched_total', 'Blocks syncs fetched over bitswap', () => stats.blocksFetched)
    counter('dagsync_bytes_fetched_total', 'Bytes of blocks syncs fetched over bitswap', () => stats.bytesFetched)
    counter(
      'dagsync_sync_requests_served_total',
      'Fast-path sync requests this node answered',
      () => stats.syncRequestsServed,
    )
    counter(
      'dagsync_sync_messages_served_total',
      'Blocks and deltas this node sent on the fast path',
      () => stats.syncMessagesServed,
    )
    counter('dagsync_sync_bytes_served_total', 'Bytes this node sent on the fast path', () => stats.syncBytesServed)
    counter(
      'dagsync_pushes_refused_total',
      'Blocks pushed with an announcement that did not check out (the sync asked a peer instead)',
      () => stats.pushesRefused,
    )
    new Counter({
      name: 'dagsync_announcements_total',
      help: 'Announcements received, by result: accepted, stale or rejected (forged or malformed)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset()
        this.inc({ result: 'accepted' }, stats.announcementsAccepted)
        this.inc({ result: 'stale' }, stats.announcementsStale)
        this.inc({ result: 'rejected' }, stats.announcementsRejected)
      },
    })
    this.#commit = new Histogram({
      name: 'dagsync_commit_duration_seconds',
      help: 'Time from a write through the API to its durable commit',
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    })
    this.#sync = new Histogram({
      name: 'dagsync_sync_duration_seconds',
      help: 'Time a followed store took to sync to a new head, by path (fast, bitswap, mixed)',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    })
    node.onSync((_, report) => this.#sync.observe({ path: report.path }, report.ms / 1000))
  }

  observeCommit(ms: number): void {
    this.#commit.observe(ms / 1000)
  }
}
