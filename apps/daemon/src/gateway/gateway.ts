// The IPFS Trustless Gateway (specs.ipfs.tech/http-gateways/trustless-gateway/) for what this
// repo holds: `/ipfs/<cid>` as a raw block or a CAR, `/ipns/<store id>` as the store's signed
// IPNS record. Public-read and token-free, with CORS for every origin; it never fetches from
// the network for a caller: a block or record not held here is a 404.
import { storeIdOf, storePublicKey } from '@dagsync/peer'
import { readBlock } from '@dagsync/store'
import { Hono } from 'hono'
import type { Blockstore } from 'interface-blockstore'
import { unmarshalIPNSRecord } from 'ipns'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import { type DagScope, dfsCar } from './dfs-car.ts'
import { GatewayRequestError, MEDIA_TYPES, negotiate } from './negotiate.ts'

export interface GatewayInit {
  /** Where blocks are read from (never the network). */
  readonly blockstore: Blockstore
  /** The signed IPNS record this node holds for a store id (its own head, or the newest it follows), or null. */
  readonly record: (storeId: string) => Promise<Uint8Array | null>
}

/** Blocks never change: a year, as the path-gateway specification recommends for /ipfs/. */
export const IMMUTABLE = 'public, max-age=29030400, immutable'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Range, User-Agent, X-Requested-With',
  'access-control-expose-headers': 'Content-Length, Content-Location, ETag, X-Ipfs-Path, X-Ipfs-Roots',
}

function parseCid(text: string): CID {
  try {
    return text.startsWith('k') ? CID.parse(text, base36) : CID.parse(text)
  } catch (err) {
    throw new GatewayRequestError(400, `"${text}" is not a CID: ${(err as Error).message}`)
  }
}

function dagScope(query: Record<string, string>): DagScope {
  // Nothing here is UnixFS: an entity (and so `entity-bytes`) is one block, as the spec says for other data.
  if (query['entity-bytes'] !== undefined) return 'block'
  const scope = query['dag-scope'] ?? 'all'
  if (scope === 'all' || scope === 'block') return scope
  if (scope === 'entity') return 'block'
  throw new GatewayRequestError(400, `dag-scope=${scope} is not one of all, entity, block`)
}

function failure(err: unknown): Response {
  if (!(err instanceof GatewayRequestError)) throw err
  return new Response(`${err.message}\n`, {
    status: err.status,
    headers: { ...CORS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  })
}

/** `If-None-Match` names this response's ETag: the client's copy is current. */
function unchanged(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*') === true
}

async function ipfs(
  init: GatewayInit,
  request: Request,
  path: string,
  query: Record<string, string>,
): Promise<Response> {
  if (path.includes('/'))
    throw new GatewayRequestError(400, 'only /ipfs/<cid> is served here (no paths: the blocks are not UnixFS)')
  const cid = parseCid(path)
  const { format, byQuery } = negotiate(query.format, request.headers.get('accept') ?? undefined, ['raw', 'car'])
  const scope = format === 'car' ? dagScope(query) : undefined
  const etag = format === 'raw' ? `"${cid}.raw"` : `"${cid}.car.dfs.n.${scope}"`
  const headers: Record<string, string> = {
    ...CORS,
    'cache-control': IMMUTABLE,
    etag,
    vary: 'Accept',
    'x-content-type-options': 'nosniff',
    'x-ipfs-path': `/ipfs/${path}`,
    'x-ipfs-roots': cid.toString(),
    'content-disposition': `attachment; filename="${cid}.${format === 'raw' ? 'bin' : 'car'}"`,
  }
  if (!byQuery) headers['content-location'] = `/ipfs/${path}?format=${format}`
  const bytes = await readBlock(init.blockstore, cid)
  if (bytes === undefined) throw new GatewayRequestError(404, `block ${cid} is not held here`)
  if (unchanged(request.headers.get('if-none-match') ?? undefined, etag))
    return new Response(null, { status: 304, headers })
  if (format === 'raw') {
    headers['content-type'] = MEDIA_TYPES.raw
    headers['content-length'] = String(bytes.length)
    return new Response(request.method === 'HEAD' ? null : bytes.slice(), { headers })
  }
  headers['content-type'] = `${MEDIA_TYPES.car}; version=1; order=dfs; dups=n`
  if (request.method === 'HEAD') return new Response(null, { headers })
  return new Response(dfsCar(init.blockstore, cid, bytes, scope ?? 'all'), { headers })
}

async function ipns(
  init: GatewayInit,
  request: Request,
  name: string,
  query: Record<string, string>,
): Promise<Response> {
  let id: string
  try {
    id = storeIdOf(storePublicKey(name))
  } catch (err) {
    throw new GatewayRequestError(400, (err as Error).message)
  }
  const { byQuery } = negotiate(query.format, request.headers.get('accept') ?? undefined, ['ipns-record'])
  const bytes = await init.record(id)
  if (bytes === null) throw new GatewayRequestError(404, `no IPNS record of ${id} is held here`)
  const record = unmarshalIPNSRecord(bytes)
  // Cached no longer than the record's TTL says, nor past its validity.
  const ttl = Number((record.ttl ?? 0n) / 1_000_000_000n)
  const valid = Math.floor((Date.parse(record.validity) - Date.now()) / 1000)
  const etag = `W/"${id}.${record.sequence}"`
  const headers: Record<string, string> = {
    ...CORS,
    'cache-control': `public, max-age=${Math.max(0, Math.min(ttl, valid))}`,
    etag,
    vary: 'Accept',
    'x-content-type-options': 'nosniff',
    'x-ipfs-path': `/ipns/${name}`,
    'content-type': MEDIA_TYPES['ipns-record'],
    'content-length': String(bytes.length),
    'content-disposition': `attachment; filename="${id}.ipns-record"`,
  }
  if (!byQuery) headers['content-location'] = `/ipns/${name}?format=ipns-record`
  if (unchanged(request.headers.get('if-none-match') ?? undefined, etag))
    return new Response(null, { status: 304, headers })
  return new Response(request.method === 'HEAD' ? null : bytes.slice(), { headers })
}

/** The gateway's routes, as a hono app. */
export function createGatewayApp(init: GatewayInit): Hono {
  const app = new Hono()
  app.options('*', () => new Response(null, { status: 204, headers: { ...CORS, 'access-control-max-age': '86400' } }))
  app.get('/ipfs/*', async (c) => {
    try {
      return await ipfs(init, c.req.raw, c.req.path.slice('/ipfs/'.length), c.req.query())
    } catch (err) {
      return failure(err)
    }
  })
  app.get('/ipns/*', async (c) => {
    try {
      return await ipns(init, c.req.raw, c.req.path.slice('/ipns/'.length), c.req.query())
    } catch (err) {
      return failure(err)
    }
  })
  app.notFound(() => failure(new GatewayRequestError(404, 'this gateway serves /ipfs/<cid> and /ipns/<store id>')))
  return app
}
