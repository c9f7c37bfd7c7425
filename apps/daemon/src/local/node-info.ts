// The node itself: who it is, how it is doing, and which peers it is connected to.
import { ApiError, type IdInfo, type PeerInfo, type StatusInfo, type StoreStatus } from '../api.ts'
import { VERSION } from '../version.ts'
import type { LocalContext } from './context.ts'
import { storeList, storeStatus } from './stores.ts'

export async function id(ctx: LocalContext, apiUrl: string | undefined, gatewayUrl?: string): Promise<IdInfo> {
  const peerId = ctx.node?.peerId.toString() ?? (await offlinePeerId(ctx))
  return {
    peerId,
    addresses: ctx.node?.addresses ?? [],
    repo: ctx.repo.path,
    ...(apiUrl === undefined ? {} : { api: apiUrl }),
    ...(gatewayUrl === undefined ? {} : { gateway: gatewayUrl }),
    version: VERSION,
  }
}

/** The node's peer id, as the daemon recorded it at its last start. */
async function offlinePeerId(ctx: LocalContext): Promise<string> {
  return (await ctx.repo.peerId()) ?? '(none yet: it is created on the first daemon start)'
}

export async function status(ctx: LocalContext, apiUrl: string | undefined, gatewayUrl?: string): Promise<StatusInfo> {
  const problems = await ctx.repo.checkStores()
  const stores: StoreStatus[] = []
  for (const info of await storeList(ctx)) stores.push(await storeStatus(ctx, { store: info.id }))
  return {
    ...(await id(ctx, apiUrl, gatewayUrl)),
    online: ctx.node !== undefined,
    uptimeSeconds: Math.round((Date.now() - ctx.started) / 1000),
    peers: ctx.node?.libp2p.getPeers().length ?? 0,
    stores,
    problems,
  }
}

export async function peers(ctx: LocalContext): Promise<PeerInfo[]> {
  const node = ctx.needNode('listing peers')
  const out = new Map<string, string[]>()
  for (const connection of node.libp2p.getConnections()) {
    const id = connection.remotePeer.toString()
    out.set(id, [...(out.get(id) ?? []), connection.remoteAddr.toString()])
  }
  return [...out].map(([id, addresses]) => ({ id, addresses }))
}

export async function connect(ctx: LocalContext, { address }: { address: string }): Promise<PeerInfo> {
  const node = ctx.needNode('connecting to a peer')
  const { multiaddr } = await import('@multiformats/multiaddr')
  let peer: string | undefined
  try {
    peer = multiaddr(address)
      .getComponents()
      .findLast((c) => c.name === 'p2p')?.value
  } catch (err) {
    throw new ApiError('bad-request', `"${address}" is not a multiaddr: ${(err as Error).message}`)
  }
  if (peer === undefined) throw new ApiError('bad-request', `"${address}" must end in /p2p/<peer id>`)
  node.connect(address)
  try {
    await node.connected(peer, AbortSignal.timeout(10_000))
  } catch (err) {
    throw new ApiError('unavailable', `could not connect to ${address} within 10 s (it is still being retried)`, {
      cause: err,
    })
  }
  return { id: peer, addresses: [address] }
}
