// A Vite plugin that writes dist/precache.json: every file the build put under assets/. The
// service worker keeps them all when it installs, the chunks the page loads only later
// (libp2p, fallbacks) included, so that a page opened offline can still start its node when a
// daemon is back.
import type { Plugin } from 'vite'

export const PRECACHE_FILE = 'precache.json'

export function precacheList(): Plugin {
  return {
    name: 'dagsync-precache-list',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle)
        .filter((file) => file.startsWith('assets/'))
        .sort()
        .map((file) => `/${file}`)
      this.emitFile({ type: 'asset', fileName: PRECACHE_FILE, source: `${JSON.stringify(files)}\n` })
    },
  }
}
