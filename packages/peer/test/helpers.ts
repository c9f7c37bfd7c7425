import './loopback-guard.ts'
import { format } from 'node:util'
import { memoryStorage, type Storage } from '@dagsync/store'
import type { Logger } from '@libp2p/interface'
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

/** A logger that keeps what it is told, formatted: plain lines and errors apart. */
export function recordingLog(): { log: Logger; lines: string[]; errors: string[] } {
  const lines: string[] = []
  const errors: string[] = []
  // libp2p's own placeholders (%p peer id, %c CID, %a multiaddr, %e error...) print as strings.
  const line = (formatter: unknown, args: unknown[]) =>
    format(String(formatter).replace(/%[pcabtmke]/g, '%s'), ...args.map(String))
  const log: Logger = Object.assign((formatter: unknown, ...args: unknown[]) => lines.push(line(formatter, args)), {
    error: (formatter: unknown, ...args: unknown[]) => errors.push(line(formatter, args)),
    trace: () => {},
    enabled: true,
    newScope: () => log,
  })
  return { log, lines, errors }
}
