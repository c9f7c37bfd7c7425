// A listen address the daemon cannot take (its port in use, a privileged port, an address not on
// this machine) as one line that names the address and what to change: the daemon's flag and the
// config key. libp2p reports it as several lines with stack traces and advice about a setting
// (transportManager.faultTolerance) that dagsync does not have.
import { ApiError } from './api.ts'

const REASONS: Record<string, string> = {
  EADDRINUSE: 'is in use (another daemon?)',
  EACCES: 'needs privileges this process does not have (ports under 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
}

/** What to change for each kind of address: the `dagsync daemon` flag and the config.json key. */
export const LISTEN_SETTINGS = {
  peers: { flag: '--listen <multiaddr>', key: 'listen', example: `'["/ip4/127.0.0.1/tcp/4012/ws"]'` },
  api: { flag: '--api-address <host:port>', key: 'api', example: '127.0.0.1:5012' },
  gateway: { flag: '--gateway-address <host:port>', key: 'gateway', example: '127.0.0.1:8081' },
} as const

const WHAT: Record<keyof typeof LISTEN_SETTINGS, string> = {
  peers: 'for peers',
  api: 'for the HTTP API',
  gateway: 'for the gateway',
}

/** The error for an address that could not be listened on, naming the flag and config key to change. */
export function listenError(
  kind: keyof typeof LISTEN_SETTINGS,
  address: string,
  code: string,
  cause?: unknown,
): ApiError {
  const { flag, key, example } = LISTEN_SETTINGS[kind]
  return new ApiError(
    'unavailable',
    `cannot listen ${WHAT[kind]} on ${address}: it ${REASONS[code] ?? `failed (${code})`}: pass ${flag} to \`dagsync daemon\`, or set "${key}" in config.json (\`dagsync config set ${key} ${example}\`)`,
    { cause },
  )
}

/** libp2p's "failed to be listened on" error as a listenError, or undefined if it is another error. */
export function libp2pListenError(err: unknown): ApiError | undefined {
  const message = err instanceof Error ? err.message : ''
  const failed = /^\s*(\/\S+): Error: listen (E[A-Z]+)/m.exec(message)
  if (failed === null) return undefined
  return listenError('peers', failed[1] as string, failed[2] as string, err)
}
