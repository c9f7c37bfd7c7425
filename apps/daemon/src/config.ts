// The repo's config file, `config.json`: what the daemon listens on, whom it stays connected
// to, what it follows at start and who may write. Every field is optional in the file; missing
// fields take the defaults below. Unknown fields are refused, so a typo is an error, not a
// silently ignored setting.
import type { ConnectionLimits } from '@dagsync/peer'
import { multiaddr } from '@multiformats/multiaddr'
import { ApiError } from './api.ts'
import { parseHostPort } from './api-address.ts'

export interface DaemonConfig {
  /** Multiaddrs the node listens on for peers (browsers dial the WebSocket one). @default ['/ip4/127.0.0.1/tcp/4011/ws'] */
  listen: string[]
  /** Where the HTTP API, health, metrics and web app listen: host:port or a multiaddr; loopback only. @default '127.0.0.1:5011' */
  api: string
  /**
   * Where the trustless gateway (/ipfs/, /ipns/) listens: host:port or a multiaddr, any host (it
   * is public-read and apart from the API, which is loopback-only and takes a token); null: off.
   * @default null
   */
  gateway: string | null
  /** Peers to stay connected to, redialled with backoff (multiaddrs ending in /p2p/<peer id>). @default [] */
  peers: string[]
  /** Stores to follow at start (those followed at run time are remembered in the repo too). @default [] */
  follow: { id: string; name?: string; sparse?: boolean }[]
  /** Peers allowed to write, per store this repo writes (by name or id); adds to those set with `store allow`. @default {} */
  writers: Record<string, string[]>
  /** On first start, create a store named `demo` with a few keys. @default true */
  demo: boolean
  /** Automatic gc: every `intervalMinutes` (0: never), keeping each store's last `keepLast` commits (null: all). */
  gc: { intervalMinutes: number; keepLast: number | null }
  /** Served stores re-announce their head this often (gossipsub keeps no history). @default 30000 */
  announceIntervalMs: number
  /** trace, debug, info, warn, error or fatal. @default 'info' */
  logLevel: string
  /** Named remote pinning services for `pin remote --service <name>`. @default {} */
  pinningServices: Record<string, { url: string; token: string }>
  /**
   * Addresses to announce besides those listened on: a reverse proxy's `wss` address that
   * forwards to a plain `/ws` listener (`/dns4/example.com/tcp/443/tls/ws`). @default []
   */
  announce: string[]
  /**
   * PEM files (paths; relative ones from the repo directory) for the secure WebSocket listen
   * addresses (`/tls/ws`, `/wss`) that browsers on https pages dial. @default null
   */
  tls: { cert: string; key: string } | null
  /**
   * The Kademlia DHT of dagsync nodes (docs/discovery.md): stores written here are published in
   * it, and stores followed are looked up in it. `bootstrap`: peers to join it through
   * (multiaddrs ending in /p2p/<peer id>), none by default. @default { enabled: true, bootstrap: [] }
   */
  dht: { enabled: boolean; bootstrap: string[] }
  /**
   * Circuit relay for pages (docs/browser.md, "Browsers share with each other"): up to
   * `maxReservations` pages at a time may be reached through this daemon, to set up WebRTC
   * connections to each other; each relayed connection ends after `durationLimitMs` or
   * `dataLimitBytes` in each direction. `enabled: false` turns it off.
   */
  relay: { enabled: boolean; maxReservations: number; durationLimitMs: number; dataLimitBytes: number }
  /**
   * Inbound connection limits (docs/daemon.md): at most `maxConnections` open, `maxPendingInbound`
   * in their handshake at once, and `inboundPerHostPerSecond` new ones a second from one IP
   * address. Higher than libp2p's defaults (300, 10, 5), which refuse a sixth reader dialling
   * from one host within a second: readers on one machine, or every browser behind a reverse proxy.
   * @default { maxConnections: 1000, maxPendingInbound: 128, inboundPerHostPerSecond: 100 }
   */
  connections: Required<ConnectionLimits>
}

export const DEFAULT_CONFIG: DaemonConfig = {
  listen: ['/ip4/127.0.0.1/tcp/4011/ws'],
  api: '127.0.0.1:5011',
  gateway: null,
  peers: [],
  follow: [],
  writers: {},
  demo: true,
  gc: { intervalMinutes: 0, keepLast: null },
  announceIntervalMs: 30_000,
  logLevel: 'info',
  pinningServices: {},
  announce: [],
  tls: null,
  dht: { enabled: true, bootstrap: [] },
  relay: { enabled: true, maxReservations: 15, durationLimitMs: 120_000, dataLimitBytes: 131_072 },
  connections: { maxConnections: 1000, maxPendingInbound: 128, inboundPerHostPerSecond: 100 },
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

class ConfigReader {
  readonly #file: string

  constructor(file: string) {
    this.#file = file
  }

  fail(path: string, message: string): never {
    throw new ApiError('bad-request', `${this.#file}: "${path}" ${message}`)
  }

  object(value: unknown, path: string, known: readonly string[]): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'must be an object')
    for (const key of Object.keys(value)) {
      if (!known.includes(key))
        this.fail(path === '' ? key : `${path}.${key}`, `is not a setting (known: ${known.join(', ')})`)
    }
    return value as Record<string, unknown>
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') this.fail(path, 'must be a non-empty string')
    return value
  }

  multiaddrs(value: unknown, path: string, needPeer: boolean): string[] {
    if (!Array.isArray(value)) this.fail(path, 'must be a list of multiaddrs')
    return value.map((item, i) => {
      const text = this.string(item, `${path}[${i}]`)
      try {
        const ma = multiaddr(text)
        if (needPeer && ma.getComponents().at(-1)?.name !== 'p2p')
          this.fail(`${path}[${i}]`, 'must end in /p2p/<peer id>')
      } catch (err) {
        if (err instanceof ApiError) throw err
        this.fail(`${path}[${i}]`, `is not a multiaddr: ${text}`)
      }
      return text
    })
  }

  integer(value: unknown, path: string, min: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
      this.fail(path, `must be an integer of at least ${min}`)
    return value
  }
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]']

/** Checks a loopback address for the API: `host:port` or a multiaddr (/ip4/127.0.0.1/tcp/5011). */
export function parseApiAddress(value: string): { host: string; port: number } {
  const address = parseHostPort(value)
  if (address === undefined || !LOOPBACK.includes(address.host)) {
    throw new ApiError(
      'bad-request',
      `API address "${value}" must be a loopback host and port, e.g. 127.0.0.1:5011 or /ip4/127.0.0.1/tcp/5011 (the API is for this machine only)`,
    )
  }
  return { host: address.host.replace(/^\[|\]$/g, ''), port: address.port }
}

/** Checks the gateway's address: `host:port` or a multiaddr, any host (port 0: any free port). */
export function parseGatewayAddress(value: string): { host: string; port: number } {
  const address = parseHostPort(value)
  if (address === undefined)
    throw new ApiError(
      'bad-request',
      `gateway address "${value}" must be a host and port, e.g. 127.0.0.1:8081 or /ip4/0.0.0.0/tcp/8081`,
    )
  return { host: address.host.replace(/^\[|\]$/g, ''), port: address.port }
}

/** Validates a parsed config file and fills in the defaults. */
export function readConfig(data: unknown, file = 'config.json'): DaemonConfig {
  const r: ConfigReader = new ConfigReader(file)
  const o = r.object(data, '', Object.keys(DEFAULT_CONFIG))
  const config: DaemonConfig = structuredClone(DEFAULT_CONFIG)
  if (o.listen !== undefined) config.listen = r.multiaddrs(o.listen, 'listen', false)
  if (o.announce !== undefined) config.announce = r.multiaddrs(o.announce, 'announce', false)
  if (o.tls !== undefined && o.tls !== null) {
    const t = r.object(o.tls, 'tls', ['cert', 'key'])
    config.tls = { cert: r.string(t.cert, 'tls.cert'), key: r.string(t.key, 'tls.key') }
  }
  if (o.dht !== undefined) {
    const d = r.object(o.dht, 'dht', ['enabled', 'bootstrap'])
    if (d.enabled !== undefined) {
      if (typeof d.enabled !== 'boolean') r.fail('dht.enabled', 'must be true or false')
      config.dht.enabled = d.enabled
    }
    if (d.bootstrap !== undefined) config.dht.bootstrap = r.multiaddrs(d.bootstrap, 'dht.bootstrap', true)
  }
  if (o.api !== undefined) {
    config.api = r.string(o.api, 'api')
    try {
      parseApiAddress(config.api)
    } catch (err) {
      r.fail('api', (err as Error).message)
    }
  }
  if (o.gateway !== undefined && o.gateway !== null) {
    config.gateway = r.string(o.gateway, 'gateway')
    try {
      parseGatewayAddress(config.gateway)
    } catch (err) {
      r.fail('gateway', (err as Error).message)
    }
  }
  if (o.peers !== undefined) config.peers = r.multiaddrs(o.peers, 'peers', true)
  if (o.follow !== undefined) {
    if (!Array.isArray(o.follow)) r.fail('follow', 'must be a list of {id, name?, sparse?}')
    config.follow = o.follow.map((item, i) => {
      const f = r.object(item, `follow[${i}]`, ['id', 'name', 'sparse'])
      const entry: DaemonConfig['follow'][number] = { id: r.string(f.id, `follow[${i}].id`) }
      if (f.name !== undefined) entry.name = r.string(f.name, `follow[${i}].name`)
      if (f.sparse !== undefined) {
        if (typeof f.sparse !== 'boolean') r.fail(`follow[${i}].sparse`, 'must be true or false')
        entry.sparse = f.sparse
      }
      return entry
    })
  }
  if (o.writers !== undefined) {
    const w = r.object(o.writers, 'writers', Object.keys(o.writers as object))
    config.writers = Object.fromEntries(
      Object.entries(w).map(([store, peers]) => {
        if (!Array.isArray(peers)) r.fail(`writers.${store}`, 'must be a list of peer ids')
        return [store, peers.map((p, i) => r.string(p, `writers.${store}[${i}]`))]
      }),
    )
  }
  if (o.demo !== undefined) {
    if (typeof o.demo !== 'boolean') r.fail('demo', 'must be true or false')
    config.demo = o.demo
  }
  if (o.gc !== undefined) {
    const g = r.object(o.gc, 'gc', ['intervalMinutes', 'keepLast'])
    if (g.intervalMinutes !== undefined)
      config.gc.intervalMinutes = r.integer(g.intervalMinutes, 'gc.intervalMinutes', 0)
    if (g.keepLast !== undefined)
      config.gc.keepLast = g.keepLast === null ? null : r.integer(g.keepLast, 'gc.keepLast', 1)
  }
  if (o.relay !== undefined) {
    const v = r.object(o.relay, 'relay', Object.keys(DEFAULT_CONFIG.relay))
    if (v.enabled !== undefined) {
      if (typeof v.enabled !== 'boolean') r.fail('relay.enabled', 'must be true or false')
      config.relay.enabled = v.enabled
    }
    if (v.maxReservations !== undefined)
      config.relay.maxReservations = r.integer(v.maxReservations, 'relay.maxReservations', 1)
    if (v.durationLimitMs !== undefined)
      config.relay.durationLimitMs = r.integer(v.durationLimitMs, 'relay.durationLimitMs', 1000)
    if (v.dataLimitBytes !== undefined)
      config.relay.dataLimitBytes = r.integer(v.dataLimitBytes, 'relay.dataLimitBytes', 1024)
  }
  if (o.connections !== undefined) {
    const c = r.object(o.connections, 'connections', Object.keys(DEFAULT_CONFIG.connections))
    for (const key of Object.keys(DEFAULT_CONFIG.connections) as (keyof DaemonConfig['connections'])[])
      if (c[key] !== undefined) config.connections[key] = r.integer(c[key], `connections.${key}`, 1)
  }
  if (o.announceIntervalMs !== undefined)
    config.announceIntervalMs = r.integer(o.announceIntervalMs, 'announceIntervalMs', 100)
  if (o.logLevel !== undefined) {
    const level = r.string(o.logLevel, 'logLevel')
    if (!LOG_LEVELS.includes(level)) r.fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`)
    config.logLevel = level
  }
  if (o.pinningServices !== undefined) {
    const services = r.object(o.pinningServices, 'pinningServices', Object.keys(o.pinningServices as object))
    config.pinningServices = Object.fromEntries(
      Object.entries(services).map(([name, value]) => {
        const s = r.object(value, `pinningServices.${name}`, ['url', 'token'])
        return [
          name,
          {
            url: r.string(s.url, `pinningServices.${name}.url`),
            token: r.string(s.token, `pinningServices.${name}.token`),
          },
        ]
      }),
    )
  }
  return config
}
