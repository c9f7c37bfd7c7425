// Where the page finds its daemon: the daemon's /config.json (Vite's dev and preview servers pass
// the request on to it, see vite.config.ts), and which of its stores to show: ?store=<name or id>,
// else the daemon's default store.

/** The part of the daemon's /config.json this page reads. */
export interface DaemonConfig {
  /** The daemon's WebSocket addresses, with /p2p/<peer id>. */
  readonly addresses: string[]
  readonly stores: { id: string; names: string[] }[]
  readonly defaultStore?: string
  /** How to run the CLI on the daemon's repo, for the "store allow" hint. @default 'dagsync' */
  readonly cli?: string
}

export interface Target {
  readonly peers: string[]
  readonly storeId: string
  /** The store's name when it has one, else its id: what `dagsync store allow` takes. */
  readonly storeName: string
  readonly cli: string
}

export async function loadTarget(search: string): Promise<Target> {
  const response = await fetch('/config.json', { cache: 'no-store' })
  if (!response.ok) throw new Error(`the daemon's /config.json answered HTTP ${response.status}`)
  const config = (await response.json()) as DaemonConfig
  const wanted = new URLSearchParams(search).get('store') ?? config.defaultStore
  const store = config.stores.find((s) => s.id === wanted || s.names.includes(wanted ?? ''))
  if (store === undefined) throw new Error(`the daemon has no store ${wanted ?? '(none named)'}`)
  return {
    peers: config.addresses,
    storeId: store.id,
    storeName: store.names[0] ?? store.id,
    cli: config.cli ?? 'dagsync',
  }
}
