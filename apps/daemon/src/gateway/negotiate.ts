// Which response a trustless-gateway request asks for: `?format=` first, then the Accept
// header (the specification's order). Only verifiable responses exist here: raw blocks, CARs and
// IPNS records; nothing is deserialized.

/** A request the gateway answers with a 4xx status and a short text saying why. */
export class GatewayRequestError extends Error {
  override readonly name = 'GatewayRequestError'
  readonly status: 400 | 404 | 406

  constructor(status: 400 | 404 | 406, message: string) {
    super(message)
    this.status = status
  }
}

export type Format = 'raw' | 'car' | 'ipns-record'

export const MEDIA_TYPES: Record<Format, string> = {
  raw: 'application/vnd.ipld.raw',
  car: 'application/vnd.ipld.car',
  'ipns-record': 'application/vnd.ipfs.ipns-record',
}

const BY_TYPE = new Map(Object.entries(MEDIA_TYPES).map(([format, type]) => [type, format as Format]))

export interface Negotiated {
  readonly format: Format
  /** Whether `?format=` chose it (else the Accept header did). */
  readonly byQuery: boolean
}

/**
 * The format asked for, among those `allowed` on this path (any type, `*` slash `*`, takes the first). Throws
 * GatewayRequestError: 400 for an unknown `?format=` or no Accept header at all (this gateway is
 * strictly trustless), 406 when Accept names only types it does not serve, or a CAR version
 * other than 1.
 */
export function negotiate(
  query: string | undefined,
  accept: string | undefined,
  allowed: readonly Format[],
): Negotiated {
  if (query !== undefined) {
    if (!(allowed as readonly string[]).includes(query))
      throw new GatewayRequestError(400, `format=${query} is not served here (only ${allowed.join(', ')})`)
    return { format: query as Format, byQuery: true }
  }
  if (accept === undefined || accept.trim() === '')
    throw new GatewayRequestError(
      400,
      `this is a trustless gateway: ask for ${allowed.map((f) => MEDIA_TYPES[f]).join(' or ')} (Accept) or ?format=`,
    )
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    if (params.includes('q=0')) continue
    // Any type will do: the first this path serves (a raw block, an IPNS record).
    if (type === '*/*' || type === 'application/*') return { format: allowed[0] as Format, byQuery: false }
    const format = BY_TYPE.get(type)
    if (format === undefined || !allowed.includes(format)) continue
    const version = params.find((p) => p.startsWith('version='))
    if (format === 'car' && version !== undefined && version !== 'version=1') continue
    return { format, byQuery: false }
  }
  throw new GatewayRequestError(
    406,
    `none of "${accept}" is served here: ask for ${allowed.map((f) => MEDIA_TYPES[f]).join(' or ')}`,
  )
}
