// The daemon: opens the repo, starts a node that serves the repo's stores and follows the ones
// it follows, and serves the HTTP API. `stop` shuts down in order: no new requests, in-flight
// commits finish, the node stops, the repo is closed and its lock released.
import { join } from 'node:path'
import { createDagsyncNode, type DagsyncNode } from '@dagsync/peer'
import { type Logger, pino } from 'pino'
import pretty from 'pino-pretty'
import { parseApiAddress, parseGatewayAddress } from './config.ts'
import { toApiError } from './convert.ts'
import type { GatewayInit } from './gateway/gateway.ts'
import { type GatewayServer, startGatewayServer } from './gateway/server.ts'
import { startHttpServer } from './http.ts'
import { libp2pListenError } from './listen-errors.ts'
import { LocalApi } from './local-api.ts'
import { Metrics } from './metrics.ts'
import { peerLogger } from './peer-log.ts'
import { relayInit } from './relay.ts'
import { Repo } from './repo.ts'
import { runSteps } from './shutdown.ts'
import { StorageMonitor } from './storage-monitor.ts'
import { loadTls } from './tls.ts'
import { VERSION } from './version.ts'

export interface DaemonInit {
  /** The repo directory; created with a default config if it does not exist. */
  readonly repo: string
  /** For this run, instead of the config's `listen`. */
  readonly listen?: string[]
  /** For this run, instead of the config's `api` (host:port; port 0 picks a free one). */
  readonly api?: string
  /** For this run, instead of the config's `gateway` (host:port; port 0 picks a free one). */
  readonly gateway?: string
  /** For this run, instead of the config's `logLevel`. */
  readonly logLevel?: string
  /** Where logs go. @default pino to stderr (pretty-printed when stderr is a terminal) */
  readonly log?: Logger
  /** The built web app to serve at the API's address. @default apps/web/dist of this checkout */
  readonly webRoot?: string
  /**
   * How a user runs the CLI on this repo (`dagsync`, `./dagsync --repo ./b`), for hints that must
   * run as printed: the demo store's welcome and the web app's. @default 'dagsync'
   */
  readonly cli?: string
}

const WEB_ROOT = join(import.meta.dirname, '..', '..', 'web', 'dist')

export interface Daemon {
  readonly repo: Repo
  readonly node: DagsyncNode
  readonly api: LocalApi
  /** The HTTP API's URL. */
  readonly url: string
  readonly log: Logger
  /** Whether this start created the demo store. */
  readonly createdDemo: boolean
  /**
   * Resolves, with a message that says what to do, once a write to the repo's database failed
   * and the daemon must be restarted to reopen it (when the disk has room again, or at once if
   * the failure was not for lack of space): the daemon should then stop and exit. Never rejects.
   */
  readonly failed: Promise<string>
  /** The step `stop` is at ("closing the database"), while it runs. */
  readonly stopStep: string | undefined
  /**
   * Stops in order: the HTTP API, the node (queued commits finish first), the database. Every
   * step runs even if one before it failed; then it rejects with ShutdownError. It may never
   * end if storage hangs: `stopWithin` puts a deadline on it.
   */
  stop(): Promise<void>
}

export function createLogger(level: string): Logger {
  if (process.stderr.isTTY) return pino({ level }, pretty({ destination: 2, ignore: 'pid,hostname' }))
  return pino({ level, base: undefined }, pino.destination(2))
}

/** A few keys to look at on a fresh install; `cli` is how to run the CLI on this repo. */
const demoData = (cli: string): [string, unknown][] => [
  ['welcome', `This is the demo store of a fresh dagsync daemon. Try: ${cli} keys demo`],
  ['todo/1', { title: 'Read the README', done: true }],
  ['todo/2', { title: 'Follow this store from a second daemon', done: false }],
  ['todo/3', { title: 'Open the web app and watch a write arrive', done: false }],
  ['settings/theme', { mode: 'dark', accent: '#3b82f6' }],
  ['counter', 0],
]

export async function startDaemon(init: DaemonInit): Promise<Daemon> {
  const repo = await Repo.open(init.repo, { command: 'daemon', create: true })
  const config = repo.config
  const log = init.log ?? createLogger(init.logLevel ?? config.logLevel)
  for (const warning of repo.warnings) log.warn(warning)
  if (repo.madePrivate.length > 0)
    log.warn(
      { repo: repo.path, paths: repo.madePrivate.length },
      'the repo was readable by other users (it holds private keys and the API token): made it private (0700/0600)',
    )
  let node: DagsyncNode | undefined
  try {
    const api = parseApiAddress(init.api ?? config.api)
    const gatewayAddress = init.gateway ?? config.gateway
    const gatewayAt = gatewayAddress === null ? undefined : parseGatewayAddress(gatewayAddress)
    const listen = init.listen ?? config.listen
    const tls = await loadTls(config.tls, listen, repo.path)
    if (tls?.warning !== undefined) log.warn(tls.warning)
    node = await createDagsyncNode({
      storage: repo.storage,
      listen,
      announce: config.announce,
      ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key } }),
      peers: config.peers,
      ...(config.dht.enabled ? { dht: { bootstrap: config.dht.bootstrap } } : {}),
      announceIntervalMs: config.announceIntervalMs,
      connectionLimits: config.connections,
      ...relayInit(config.relay),
      log: peerLogger(log),
    }).catch((err: unknown) => {
      throw libp2pListenError(err) ?? err
    })
    await repo.setPeerId(node.peerId.toString())
    const metrics = new Metrics({
      node,
      // id → first name (names() is name → id).
      names: async () => {
        const byId = new Map<string, string>()
        for (const [name, id] of [...(await repo.names())].sort(([a], [b]) => a.localeCompare(b)))
          if (!byId.has(id)) byId.set(id, name)
        return byId
      },
    })
    const local = new LocalApi({ repo, node, log, onCommit: (ms) => metrics.observeCommit(ms) })
    for await (const id of node.writableStores()) {
      // A store whose head the database lost is not served: a write would fork its history.
      if (repo.damageOf(id).length > 0) continue
      await node.serve(id).catch((err) => log.error({ err, store: id }, 'could not serve a store written here'))
    }
    let createdDemo = false
    if (config.demo && !(await repo.names()).has('demo')) {
      const demo = await node.createStore()
      await repo.setName('demo', demo.id)
      await demo.store.transact(
        async (tx) => {
          for (const [key, value] of demoData(init.cli ?? 'dagsync')) await tx.assoc(key, value)
        },
        { meta: { message: 'demo data' } },
      )
      createdDemo = true
    }
    for (const follow of config.follow) {
      await node.follow(follow.id, { sparse: follow.sparse === true })
      if (follow.name !== undefined) await repo.setName(follow.name, follow.id)
    }
    for (const served of node.servedStores) served.allowWriters(await local.writersOf(served.id))
    // The manifest learns the stores this start added (the demo, the config's follows), and says
    // what the database lost.
    await repo.checkStores().catch((err) => log.warn({ err }, 'could not update the store manifest (stores.json)'))
    for (const problem of repo.problems) log.error({ store: problem.store, problem: problem.kind }, problem.message)

    let fatal: (message: string) => void = () => {}
    const failed = new Promise<string>((resolve) => (fatal = resolve))
    const monitor = new StorageMonitor({ gate: repo.gate, dataDir: join(repo.path, 'data'), log, onStuck: fatal })
    const started = Date.now()
    const gatewayData: GatewayInit = {
      blockstore: repo.storage.blockstore,
      // The head this node signed, or the newest one it verified for a store it follows.
      record: async (id) =>
        (await node!.served(id)?.announcementOfHead())?.bytes ?? node!.followed(id)?.announcement?.bytes ?? null,
    }
    const http = await startHttpServer({
      api: local,
      token: repo.token,
      host: api.host,
      port: api.port,
      log,
      metrics,
      routing: { node },
      pageGateway: gatewayData,
      web: {
        root: init.webRoot ?? WEB_ROOT,
        config: async () => {
          const stores = await local.storeList()
          return {
            peerId: node!.peerId.toString(),
            // Browsers dial WebSockets only (/ws, /tls/ws); a page served over https picks the latter.
            addresses: node!.addresses.filter((a) => a.includes('/ws/')),
            stores: stores.map(({ id, names, role }) => ({ id, names, role })),
            defaultStore: (stores.find((s) => s.names.includes('demo')) ?? stores[0])?.id,
            cli: init.cli ?? 'dagsync',
            // Where the page syncs from when it cannot dial the addresses (WebSockets blocked).
            gateways: local.gatewayUrl === undefined ? [] : [local.gatewayUrl],
          }
        },
      },
      health: async () => {
        const storage = monitor.state
        return {
          ...(storage.status === 'ok' ? {} : { status: storage.status, problem: storage.problem }),
          version: VERSION,
          peerId: node!.peerId.toString(),
          uptimeSeconds: Math.round((Date.now() - started) / 1000),
          peers: node!.libp2p.getPeers().length,
          stores: node!.servedStores.length + node!.followers.length,
        }
      },
    })
    local.apiUrl = http.url
    await repo.setApi(http.url)
    const running = node
    let gateway: GatewayServer | undefined
    if (gatewayAt !== undefined) {
      gateway = await startGatewayServer({ ...gatewayAt, ...gatewayData }).catch(async (err: unknown) => {
        await http.close()
        throw err
      })
      local.gatewayUrl = gateway.url
    }

    // Report what happens, for operators.
    node.libp2p.addEventListener('peer:connect', (e) => log.info({ peer: e.detail.toString() }, 'peer connected'))
    node.libp2p.addEventListener('peer:disconnect', (e) => log.info({ peer: e.detail.toString() }, 'peer disconnected'))
    node.onSync((store, r) => {
      log.info(
        { store, seq: r.seq, path: r.path, ms: Math.round(r.ms), wireBytes: r.wireBytes, blocks: r.blocks },
        'synced',
      )
      void repo.noteHead(store, r.seq)
    })
    const timers: ReturnType<typeof setInterval>[] = []
    if (config.gc.intervalMinutes > 0) {
      timers.push(
        setInterval(() => {
          local
            .gc(config.gc.keepLast === null ? {} : { keepLast: config.gc.keepLast })
            .then((r) => log.info(r, 'gc done'))
            .catch((err) => log.error({ err }, 'gc failed'))
        }, config.gc.intervalMinutes * 60_000),
      )
    }

    let stopping: Promise<void> | undefined
    let stopStep: string | undefined
    return {
      repo,
      node,
      api: local,
      url: http.url,
      log,
      createdDemo,
      failed,
      get stopStep() {
        return stopStep
      },
      stop: () => {
        stopping ??= (async () => {
          for (const timer of timers) clearInterval(timer)
          monitor.stop()
          await runSteps(
            [
              { name: 'closing the HTTP API', run: () => http.close() },
              { name: 'closing the gateway', run: async () => gateway?.close() },
              { name: 'closing offline stores', run: () => local.close() },
              // Closes the stores first: queued transactions commit.
              { name: 'stopping the node', run: () => running.stop() },
              { name: 'closing the database', run: () => repo.close() },
            ],
            log,
            (step) => (stopStep = step),
          )
          stopStep = undefined
          log.info('stopped')
        })()
        return stopping
      },
    }
  } catch (err) {
    await node?.stop().catch((stopErr) => log.error({ err: stopErr }, 'stopping the node after a failed start failed'))
    await repo.close().catch((closeErr) => log.error({ err: closeErr }, 'closing the repo after a failed start failed'))
    throw toApiError(err) // a full disk or a damaged database says so, and what to do
  }
}
