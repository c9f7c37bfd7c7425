// Keeps the app's own files so the page opens offline: network first (a daemon that is up serves
// the newest build), the cached copy when the network fails. Data is not cached here: the page
// reads it from its replica in IndexedDB.
const CACHE = 'dagsync-app-v1'

// On install, keep the page and every asset of its build (precache.json, written by the build):
// the chunks the page loads later too, so that the very next load works offline and can still
// start its node when a daemon is back.
self.addEventListener('install', (event) =>
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE)
      const assets = await (await fetch('/precache.json', { cache: 'no-store' })).json()
      await cache.addAll(['/', ...assets])
      await self.skipWaiting()
    })(),
  ),
)
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return
  if (url.pathname.startsWith('/api/') || url.pathname === '/metrics' || url.pathname === '/health') return
  // Records and blocks: the page checks them itself and keeps what it took in IndexedDB.
  if (url.pathname.startsWith('/ipfs/') || url.pathname.startsWith('/ipns/')) return
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE)
      try {
        const response = await fetch(event.request)
        if (response.ok) await cache.put(event.request, response.clone())
        return response
      } catch (err) {
        const cached = await cache.match(event.request, { ignoreSearch: url.pathname === '/' })
        if (cached !== undefined) return cached
        throw err
      }
    })(),
  )
})
