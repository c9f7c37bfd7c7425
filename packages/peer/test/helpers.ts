import './loopback-guard.ts'
import { memoryStorage, type Storage } from '@dagsync/store'
import { createDagsyncNode, type DagsyncNode, type DagsyncNodeInit } from '../src/index.ts'

export { violations } from './loopback-guard.ts'

const nodes = new Set<DagsyncNode>()

/** A node on an ephemeral loopback port, stopped by `stopAll`. */
export async function startNode(init: Partial<DagsyncNodeInit> = {}): Promise<DagsyncNode> {
  const node = await createDagsyncNode({
    storage: init.storage ?? memoryStorage(),
    announceIntervalMs: 60_000,
    ...init,
  })
  nodes.add(node)
  return node
}

export async function stopNode(node: DagsyncNode): Promise<void> {
  nodes.delete(node)
  await node.stop()
}

export async function stopAll(): Promise<void> {
  await Promise.all([...nodes].map((node) => stopNode(node)))
}

/** A reader connected to `to` (and kept connected). */
export async function startReader(
  to: DagsyncNode,
  init: Partial<DagsyncNodeInit> & { storage?: Storage } = {},
): Promise<DagsyncNode> {
  const reader = await startNode({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    ...init,
    peers: [...to.addresses, ...(init.peers ?? [])],
  })
  await reader.connected(to.peerId.toString(), AbortSignal.timeout(10_000))
  return reader
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const started = Date.now()
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export async function entries(source: {
  entries(): AsyncIterable<{ key: unknown; value: unknown }>
}): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const { key, value } of source.entries()) out.push([key, value])
  return out
}
