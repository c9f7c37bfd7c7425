// The web app is built once into dist/, which the daemon serves at its API address, with
// precache.json listing its assets for the service worker. Each build also writes what is in
// the bundle to .bundle/ (not served): chunks.json, the chunk graph the bundle budget test
// reads, and treemap.html, rollup-plugin-visualizer's map of every module's share, to open in a
// browser.
import { join } from 'node:path'
import { visualizer } from 'rollup-plugin-visualizer'
import { defineConfig } from 'vite'
import { chunkGraph } from './build/chunk-graph.ts'
import { precacheList } from './build/precache-list.ts'

const stats = join(import.meta.dirname, '.bundle')

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2023',
    chunkSizeWarningLimit: 2048,
    // Every browser that runs es2023 has <link rel="modulepreload">.
    modulePreload: { polyfill: false },
  },
  plugins: [
    precacheList(),
    chunkGraph(join(stats, 'chunks.json')),
    visualizer({ filename: join(stats, 'treemap.html'), template: 'treemap', gzipSize: true }),
  ],
})
