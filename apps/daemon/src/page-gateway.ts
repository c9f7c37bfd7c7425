// The trustless gateway's read-only routes (`GET /ipfs/<cid>`, `/ipns/<store id>`) on the API's
// own address too, for the web app the API serves: a first visit shows a store's keys from its
// signed record and one CAR fetched from the page's own origin, before libp2p has loaded
// (docs/browser.md). They tell nothing libp2p does not: records are signed, blocks are public to
// any peer. Mounted after the API's host and origin checks, so only this machine's pages and
// clients reach them; the gateway's own address (off by default) is the one for the world.
import type { Hono } from 'hono'
import { createGatewayApp, type GatewayInit } from './gateway/gateway.ts'

export function mountPageGateway(app: Hono, init: GatewayInit): void {
  const gateway = createGatewayApp(init)
  for (const path of ['/ipfs/*', '/ipns/*']) app.get(path, (c) => gateway.fetch(c.req.raw))
}
