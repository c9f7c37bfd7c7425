// The node's log lines (libp2p's printf-style Logger) into the daemon's pino log, so what a peer
// refuses and what fails in replication show in the daemon's own log, not only with DEBUG set.
import { format } from 'node:util'
import type { Logger as PeerLogger } from '@libp2p/interface'
import type { Logger } from 'pino'

/** libp2p's `%p` (a peer id) and `%c` (a CID) print as strings here. */
function line(formatter: unknown, args: unknown[]): string {
  return format(String(formatter).replace(/%[pca]/g, '%s'), ...args.map(String))
}

/** A peer Logger writing refusals at info and failures at error, under `component`. */
export function peerLogger(log: Logger, component = 'peer'): PeerLogger {
  const child = log.child({ component })
  const scoped = (formatter: unknown, ...args: unknown[]) => child.info(line(formatter, args))
  return Object.assign(scoped, {
    error: (formatter: unknown, ...args: unknown[]) => child.error(line(formatter, args)),
    trace: (formatter: unknown, ...args: unknown[]) => child.trace(line(formatter, args)),
    enabled: true,
    newScope: (name: string) => peerLogger(log, `${component}:${name}`),
  })
}
