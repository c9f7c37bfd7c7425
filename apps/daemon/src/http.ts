// The daemon's HTTP server (hono): the RPC API (see wire.ts), /health, /metrics and the web app,
// on loopback.
import { timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { serveStatic } from '@hono/node-server/serve-static'
import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import type { Logger } from 'pino'
import { type Api, ApiError, HTTP_STATUS, type Progress } from './api.ts'
import { readLimitedText } from './body.ts'
import { toApiError } from './convert.ts'
import type { GatewayInit } from './gateway/gateway.ts'
import { type ListeningApp, listenApp } from './listen-app.ts'
import type { Metrics } from './metrics.ts'
import { readOpsBody } from './ops-body.ts'
import { mountPageGateway } from './page-gateway.ts'
import { mountRoutingApi, type RoutingApiInit } from './routing-api.ts'
import {
  API_PREFIX,
  decodeWire,
  encodeWire,
  errorBody,
  METHODS,
  type MethodName,
  needsToken,
  streamOf,
} from './wire.ts'

export interface HttpServerInit {
  readonly api: Api
  readonly token: string
  readonly host: string
  readonly port: number
  readonly log: Logger
  readonly metrics?: Metrics
  /** What /health reports; a `status` other than `ok` makes it answer 503. */
  readonly health: () => Promise<Record<string, unknown>>
  /** The web app: its built files, and what /config.json tells it (the addresses to dial). */
  readonly web?: { readonly root: string; readonly config: () => Promise<unknown> }
  /** The Delegated Routing V1 HTTP API under /routing/v1/ (routing-api.ts), for any origin. */
  readonly routing?: RoutingApiInit
  /** The gateway's read-only routes for the web app (page-gateway.ts), same origin only. */
  readonly pageGateway?: GatewayInit
}

type Args = Record<string, unknown>
type Call = (api: Api, args: Args, onProgress: (p: Progress) => void) => unknown

/** How each method is called with the arguments it was sent. */
const CALLS: Record<MethodName, Call> = {
  id: (api) => api.id(),
  status: (api) => api.status(),
  peers: (api) => api.peers(),
  connect: (api, a) => api.connect(a as never),
  storeCreate: (api, a) => api.storeCreate(a as never),
  storeList: (api) => api.storeList(),
  storeFollow: (api, a) => api.storeFollow(a as never),
  storeUnfollow: (api, a) => api.storeUnfollow(a as never),
  storeStatus: (api, a) => api.storeStatus(a as never),
  storeWriters: (api, a) => api.storeWriters(a as never),
  storeAllow: (api, a) => api.storeAllow(a as never),
  storeDeny: (api, a) => api.storeDeny(a as never),
  storeName: (api, a) => api.storeName(a as never),
  get: (api, a) => api.get(a as never),
  getBytes: (api, a) => api.getBytes(a as never),
  put: (api, a) => api.put(a as never),
  putBytes: () => undefined, // an upload: see below
  del: (api, a) => api.del(a as never),
  transact: () => undefined, // an upload: see below
  stageBytes: () => undefined, // an upload: see below
  entries: (api, a) => api.entries(a as never),
  keys: (api, a) => api.keys(a as never),
  log: (api, a) => api.log(a as never),
  diff: (api, a) => api.diff(a as never),
  pinAdd: (api, a, p) => api.pinAdd(a as never, p),
  pinList: (api) => api.pinList(),
  pinRemove: (api, a) => api.pinRemove(a as never),
  pinVerify: (api, _, p) => api.pinVerify(p),
  gc: (api, a, p) => api.gc(a as never, p),
  carExport: (api, a) => api.carExport(a as never),
  carImport: () => undefined, // an upload: see below
  namePublish: (api, a) => api.namePublish(a as never),
  nameResolve: (api, a) => api.nameResolve(a as never),
  remotePinAdd: (api, a, p) => api.remotePinAdd(a as never, p),
  remotePinList: (api, a) => api.remotePinList(a as never),
  remotePinRemove: (api, a) => api.remotePinRemove(a as never),
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/

function sameToken(given: string | undefined, token: string): boolean {
  const a = Buffer.from(given ?? '')
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function json(body: unknown, status = 200): Response {
  return new Response(encodeWire(body), { status, headers: { 'content-type': 'application/json' } })
}

function failure(err: unknown): Response {
  const error = toApiError(err)
  return json(errorBody(error), HTTP_STATUS[error.code])
}

export function createApp(init: HttpServerInit): Hono {
  const app = new Hono()
  const { api, log } = init

  // Before the origin check below: browsers on any site may ask (it only tells public things).
  if (init.routing !== undefined) mountRoutingApi(app, init.routing)

  // The API is for this machine: refuse other Host names (DNS rebinding) and other web origins.
  app.use('*', async (c, next) => {
    const host = c.req.header('host') ?? ''
    if (!LOOPBACK_HOST.test(host))
      return failure(new ApiError('unauthorized', `requests for host "${host}" are refused`))
    const origin = c.req.header('origin')
    if (origin !== undefined && URL.parse(origin)?.host !== host)
      return failure(new ApiError('unauthorized', `requests from ${origin} are refused`))
    await next()
    return undefined
  })

  // 503 when the daemon is not well (its storage fails): what load balancers and monitors read.
  app.get('/health', async (c) => {
    const health = { status: 'ok', ...(await init.health()) }
    return c.json(health, health.status === 'ok' ? 200 : 503)
  })

  app.get('/metrics', async (c) => {
    if (init.metrics === undefined) return c.text('no metrics\n', 404)
    return c.text(await init.metrics.registry.metrics(), 200, { 'content-type': init.metrics.registry.contentType })
  })

  if (init.pageGateway !== undefined) mountPageGateway(app, init.pageGateway)
  if (init.web !== undefined) serveWebApp(app, init.web)

  app.post(`${API_PREFIX}:method`, async (c) => {
    const name = c.req.param('method')
    if (!Object.hasOwn(METHODS, name)) return failure(new ApiError('not-found', `no API method "${name}"`))
    const method = name as MethodName
    const { kind } = METHODS[method]
    if (needsToken(method)) {
      const auth = c.req.header('authorization')
      const given = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
      if (!sameToken(given, init.token))
        return failure(
          new ApiError(
            'unauthorized',
            given === undefined
              ? `${method} ${METHODS[method].mutates ? 'changes state' : 'contacts other hosts'} and needs the API token (the repo's api-token file)`
              : 'wrong API token',
          ),
        )
    }
    let args: Args
    try {
      const text = kind === 'upload' ? (c.req.query('args') ?? '{}') : await readLimitedText(c.req.raw)
      const decoded = text === '' ? {} : decodeWire(text)
      if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded))
        throw new ApiError('bad-request', 'the arguments must be an object')
      args = decoded as Args
    } catch (err) {
      return failure(err)
    }
    log.debug({ method }, 'api call')
    try {
      switch (kind) {
        case 'json':
          return json((await CALLS[method](api, args, () => {})) ?? null)
        case 'download': {
          const body = (await CALLS[method](api, args, () => {})) as AsyncIterable<Uint8Array>
          const type = method === 'carExport' ? 'application/vnd.ipld.car; version=1' : 'application/octet-stream'
          return new Response(streamOf(body), { headers: { 'content-type': type } })
        }
        case 'upload': {
          // transact's body is ops, parsed and checked as they arrive; the others' are bytes.
          if (method === 'transact')
            return json(
              await api.transact(args as never, await readOpsBody(c.req.raw.body, c.req.header('content-type'))),
            )
          const body = (c.req.raw.body ?? streamOf((async function* () {})())) as unknown as AsyncIterable<Uint8Array>
          if (method === 'carImport') return json(await api.carImport(args as never, body))
          if (method === 'stageBytes') return json(await api.stageBytes(args as never, body))
          return json(await api.putBytes(args as never, body))
        }
        case 'stream': {
          const items = CALLS[method](api, args, () => {}) as AsyncIterable<unknown>
          const iterator = items[Symbol.asyncIterator]()
          // The first item (or failure) decides the status.
          let first: IteratorResult<unknown>
          try {
            first = await iterator.next()
          } catch (err) {
            return failure(err)
          }
          c.header('content-type', 'application/x-ndjson')
          return stream(c, async (s) => {
            try {
              for (let next = first; next.done !== true; next = await iterator.next())
                await s.write(`${encodeWire(next.value)}\n`)
            } catch (err) {
              await s.write(`${encodeWire(errorBody(toApiError(err)))}\n`)
            }
          })
        }
        case 'progress': {
          // The status is decided by what comes first: a failure before any progress (bad input,
          // nothing to pin) is a 4xx like any other call's; once progress flows, it is 200 and a
          // later failure is the stream's last line.
          const queued: Progress[] = []
          let started: (() => void) | undefined
          const firstProgress = new Promise<void>((resolve) => {
            started = resolve
          })
          let write: ((progress: Progress) => void) | undefined
          let last = 0
          const onProgress = (progress: Progress) => {
            const now = Date.now()
            if (now - last < 100) return
            last = now
            if (write === undefined) queued.push(progress)
            else write(progress)
            started?.()
          }
          const call = Promise.resolve(CALLS[method](api, args, onProgress))
          call.catch(() => {})
          const outcome = await Promise.race([
            call.then(
              () => 'done' as const,
              () => 'failed' as const,
            ),
            firstProgress,
          ])
          if (outcome === 'failed') return failure(await call.catch((err: unknown) => err))
          c.header('content-type', 'application/x-ndjson')
          return stream(c, async (s) => {
            for (const progress of queued) await s.write(`${encodeWire({ progress })}\n`)
            write = (progress) => void s.write(`${encodeWire({ progress })}\n`)
            try {
              const result = await call
              await s.write(`${encodeWire({ result: result ?? null })}\n`)
            } catch (err) {
              await s.write(`${encodeWire(errorBody(toApiError(err)))}\n`)
            }
          })
        }
      }
      throw new ApiError('internal', `method ${method} has no handler`)
    } catch (err) {
      const error = toApiError(err)
      if (error.code === 'internal') log.error({ err, method }, 'api call failed')
      return failure(error)
    }
  })

  app.notFound(() => failure(new ApiError('not-found', 'no such endpoint (the API is POST /api/v1/<method>)')))
  return app
}

/** Starts the server; resolves with its URL once it listens. */
/** The web app's files at /, and /config.json for it; a page that explains when it is not built. */
function serveWebApp(app: Hono, web: NonNullable<HttpServerInit['web']>): void {
  app.get('/config.json', async (c) => c.json(await web.config(), 200, { 'cache-control': 'no-store' }))
  if (!existsSync(join(web.root, 'index.html'))) {
    app.get('/', (c) =>
      c.text(
        'The web app is not built. Run `pnpm --filter @dagsync/web build` (npm start does it), then reload.\n',
        404,
      ),
    )
    return
  }
  app.use('/*', serveStatic({ root: relative(process.cwd(), web.root) }))
}

export function startHttpServer(init: HttpServerInit): Promise<ListeningApp> {
  return listenApp(createApp(init), 'api', init.host, init.port)
}
