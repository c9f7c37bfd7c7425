// The gateway's own HTTP listener, apart from the API's: the API is for this machine (loopback,
// a token for changes, no other origins), the gateway is public-read (any host, any origin), so
// it may listen where the API must not, and a CDN or reverse proxy can front it alone.
import { type ListeningApp, listenApp } from '../listen-app.ts'
import { createGatewayApp, type GatewayInit } from './gateway.ts'

export type GatewayServer = ListeningApp

export function startGatewayServer(init: GatewayInit & { host: string; port: number }): Promise<GatewayServer> {
  return listenApp(createGatewayApp(init), 'gateway', init.host, init.port)
}
