// The web app is built once into dist/, which the daemon serves at its API address. Each build
// also writes what is in the bundle to .bundle/ (not served): chunks.json, the chunk graph the
// bundle budget test reads, and treemap.html, rollup-plugin-visualizer's map of every module's
// share, to open in a browser.
import { join } from 'node:path'
import { visualizer } from 'rollup-plugin-visualizer'
import { defineConfig } from 'vite'
import { chunkGraph } from './build/chunk-graph.ts'

const stats = join(import.meta.dirname, '.bundle')

export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2023', chunkSizeWarningLimit: 2048 },
  plugins: [
    chunkGraph(join(stats, 'chunks.json')),
    visualizer({ filename: join(stats, 'treemap.html'), template: 'treemap', gzipSize: true }),
  ],
})
