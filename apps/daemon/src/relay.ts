// The daemon as a circuit relay for pages: what the `relay` setting adds to its node. Pages make
// reservations on it and signal WebRTC connections to each other through it; it forwards the
// page exchange's messages (their WebRTC addresses) without dialling anyone itself.
import type { DagsyncNodeInit } from '@dagsync/peer'
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import type { DaemonConfig } from './config.ts'

export function relayInit(relay: DaemonConfig['relay']): Pick<DagsyncNodeInit, 'services' | 'pageExchange'> {
  if (!relay.enabled) return {}
  return {
    services: {
      relay: circuitRelayServer({
        reservations: {
          maxReservations: relay.maxReservations,
          defaultDurationLimit: relay.durationLimitMs,
          defaultDataLimit: BigInt(relay.dataLimitBytes),
        },
      }),
    },
    pageExchange: 'forward',
  }
}
