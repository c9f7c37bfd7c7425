// A Vite plugin that writes the built page's chunk graph to a JSON file outside dist/ (dist/ is
// served): each chunk's file, its static and dynamic imports, its size raw and gzipped, and the
// modules in it with their rendered size. The bundle budget test and docs/bundle.md read it.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Plugin } from 'vite'

/** One JavaScript chunk of the build. */
export interface ChunkInfo {
  readonly file: string
  readonly entry: boolean
  /** Chunks this one imports statically: they load before it runs. */
  readonly imports: readonly string[]
  /** Chunks this one loads with `import()`, when first used. */
  readonly dynamicImports: readonly string[]
  readonly bytes: number
  /** Gzipped at zlib's default level, as a web server sends it. */
  readonly gzipBytes: number
  /** Module id → its size in this chunk, before minification (for shares, not totals). */
  readonly modules: Readonly<Record<string, number>>
}

/** Writes `{ chunks: ChunkInfo[] }` to `path` after each build. */
export function chunkGraph(path: string): Plugin {
  return {
    name: 'dagsync-chunk-graph',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks: ChunkInfo[] = []
      for (const output of Object.values(bundle)) {
        if (output.type !== 'chunk') continue
        chunks.push({
          file: output.fileName,
          entry: output.isEntry,
          imports: output.imports,
          dynamicImports: output.dynamicImports,
          bytes: Buffer.byteLength(output.code),
          gzipBytes: gzipSync(output.code).length,
          modules: Object.fromEntries(Object.entries(output.modules).map(([id, m]) => [id, m.renderedLength])),
        })
      }
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, `${JSON.stringify({ chunks }, null, 1)}\n`)
    },
  }
}
