// The HTTP API's address, as people write it: `host:port` (127.0.0.1:5011, [::1]:5011), a
// multiaddr as Kubo users write it (/ip4/127.0.0.1/tcp/5011, /ip6/::1/tcp/5011,
// /dns4/localhost/tcp/5011, optionally ending in /http), or, for a client, a URL. No
// dependencies: the CLI parses this on every call.

/** A host and port, the host as a URL writes it ([::1] in brackets). */
export interface HostPort {
  readonly host: string
  readonly port: number
}

const MULTIADDR = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d{1,5})(?:\/http)?\/?$/
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/

/** `host:port` or a multiaddr as a host and port; undefined if it is neither. */
export function parseHostPort(text: string): HostPort | undefined {
  const ma = MULTIADDR.exec(text)
  if (ma !== null) {
    const port = Number(ma[3])
    if (port > 65535) return undefined
    return { host: ma[1] === 'ip6' ? `[${ma[2]}]` : (ma[2] as string), port }
  }
  const hp = HOST_PORT.exec(text)
  if (hp === null || Number(hp[2]) > 65535) return undefined
  return { host: hp[1] as string, port: Number(hp[2]) }
}

/** A daemon's API URL from a URL, `host:port` or a multiaddr; undefined if it is none of them. */
export function apiUrl(text: string): string | undefined {
  if (/^https?:\/\//.test(text)) return URL.canParse(text) ? text.replace(/\/$/, '') : undefined
  const address = parseHostPort(text)
  return address === undefined ? undefined : `http://${address.host}:${address.port}`
}
