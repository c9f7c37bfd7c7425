// The web app: start a browser peer on IndexedDB, dial the daemon that served this page, follow
// one of its stores, and show it live. Everything shown is read from the page's own replica, so
// it works offline (the service worker keeps the page itself). The page's tabs share one node:
// whichever holds it, every tab stays live.
import { RemoteWriteError, startTabPeer, type TabFollower, type TabPeer, UnauthorizedError } from '@dagsync/browser'
import { dialable } from './addresses.ts'
import { afterPaint } from './after-paint.ts'
import { App } from './app.ts'
import { wireStorePicker } from './store-picker.ts'
import { showUnknownStore } from './unknown-store.ts'
import './style.css'

/** What the daemon tells the page at /config.json (kept in localStorage for offline starts). */
export interface PageConfig {
  readonly peerId: string
  /** The daemon's WebSocket addresses (/ws and /tls/ws), with /p2p/. */
  readonly addresses: string[]
  readonly stores: { id: string; names: string[]; role: string }[]
  /** The store to show when the URL names none. */
  readonly defaultStore?: string
  /** How to run the CLI on the daemon's repo, for hints (`dagsync`, `./dagsync --repo ./a`). */
  readonly cli?: string
  /** The daemon's trustless gateway, to sync through when its WebSockets cannot be reached. */
  readonly gateways?: string[]
}

const CONFIG_KEY = 'dagsync:config'

async function loadConfig(): Promise<{ config: PageConfig; fresh: boolean }> {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    const config = (await response.json()) as PageConfig
    localStorage.setItem(CONFIG_KEY, JSON.stringify(config))
    return { config, fresh: true }
  } catch (err) {
    const saved = localStorage.getItem(CONFIG_KEY)
    if (saved === null)
      throw new Error(`cannot reach the daemon for its address, and this browser has none saved (${err})`)
    return { config: JSON.parse(saved) as PageConfig, fresh: false }
  }
}

/** A store id: the IPNS name of an Ed25519 key, base36 (checked fully when it is followed). */
const STORE_ID = /^k51qzi5uqu5[0-9a-z]{51}$/

/** The store `?store=` names (by name or id), else the daemon's default; undefined when the daemon has none such. */
function chooseStore(config: PageConfig): {
  wanted: string | undefined
  found: PageConfig['stores'][number] | undefined
} {
  const wanted = new URLSearchParams(location.search).get('store') ?? config.defaultStore
  const found = config.stores.find((s) => s.id === wanted || s.names.includes(wanted ?? ''))
  // A store id this daemon does not hold is followed all the same: other pages (through this
  // daemon's relay) may hold it. Only a name it does not know gets the unknown-store page.
  if (found === undefined && wanted !== undefined && STORE_ID.test(wanted))
    return { wanted, found: { id: wanted, names: [], role: 'held elsewhere' } }
  return { wanted, found }
}

declare global {
  interface Window {
    /**
     * For the console and for tests: the page's peer, the store it follows, and the error classes
     * (a bundle renames them, so `instanceof` is the way to tell them apart).
     */
    dagsync?: {
      peer: TabPeer
      follower: TabFollower
      app: App
      errors: { RemoteWriteError: typeof RemoteWriteError; UnauthorizedError: typeof UnauthorizedError }
    }
  }
}

async function main(): Promise<void> {
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {})
  const { config } = await loadConfig()
  const cli = config.cli ?? 'dagsync'
  const { wanted, found } = chooseStore(config)
  wireStorePicker(config.stores, found?.id)
  if (found === undefined) {
    showUnknownStore(wanted, config.stores, cli)
    return
  }
  const addresses = dialable(config.addresses, location.protocol)
  // A first visit shows the store from its record and one CAR over HTTP (the daemon's API serves
  // them at the page's own origin), and loads libp2p once it shows a key (docs/bundle.md).
  const peer = await startTabPeer({
    peers: addresses,
    gateways: [...(config.gateways ?? []), location.origin],
    loadNode: 'when-asked',
  })
  const follower = await peer.follow(found.id)
  const app = new App({
    peer,
    follower,
    daemon: addresses[0] ?? '',
    storeLabel: found.names[0] ?? found.id,
    cli,
    // The daemon that served the page is the writer of the stores it lists as its own.
    writer: found.role === 'writer' ? config.peerId : undefined,
    onShown: () => afterPaint(() => peer.startNode()),
  })
  window.dagsync = { peer, follower, app, errors: { RemoteWriteError, UnauthorizedError } }
  await app.start()
}

main().catch((err: unknown) => {
  const badge = document.getElementById('connection')
  if (badge !== null) {
    badge.textContent = 'failed to start'
    badge.dataset.state = 'error'
  }
  const message = document.getElementById('write-message')
  if (message !== null) message.textContent = String(err)
  console.error(err)
})
