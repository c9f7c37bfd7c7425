// How many inbound connections a node accepts, and how fast: libp2p's connection manager
// settings under names that say what they limit. libp2p's defaults suit a browser or a follower
// that dials out; a node that many peers dial (a daemon) raises them.
export interface ConnectionLimits {
  /** Open connections at most; past it libp2p closes the least valued ones. @default 300 (libp2p's; 100 in browsers) */
  maxConnections?: number
  /** Inbound connections still in their handshake (encryption, muxer) at once; more are refused. @default 10 (libp2p's) */
  maxPendingInbound?: number
  /** Inbound connections one host (IP address) may open per second; more are refused. @default 5 (libp2p's) */
  inboundPerHostPerSecond?: number
}

/** The part of libp2p's `connectionManager` options these limits set (none when not given). */
export function connectionManagerOptions(limits: ConnectionLimits = {}): {
  maxConnections?: number
  maxIncomingPendingConnections?: number
  inboundConnectionThreshold?: number
} {
  return {
    ...(limits.maxConnections === undefined ? {} : { maxConnections: limits.maxConnections }),
    ...(limits.maxPendingInbound === undefined ? {} : { maxIncomingPendingConnections: limits.maxPendingInbound }),
    ...(limits.inboundPerHostPerSecond === undefined
      ? {}
      : { inboundConnectionThreshold: limits.inboundPerHostPerSecond }),
  }
}
