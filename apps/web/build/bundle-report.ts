// Reads the chunk graph a build wrote (see chunk-graph.ts) and says what a page loads when: the
// JavaScript that loads with the page (the entry and what it imports statically), what loads
// later with `import()`, and which packages make up each part.
import { readFileSync } from 'node:fs'
import type { ChunkInfo } from './chunk-graph.ts'

/** A set of chunks that load together, and its weight. */
export interface ChunkGroup {
  readonly files: readonly string[]
  readonly bytes: number
  readonly gzipBytes: number
  /** Package name → bytes of its modules in these chunks (before minification), largest first. */
  readonly packages: readonly (readonly [string, number])[]
}

export function readChunkGraph(path: string): ChunkInfo[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { chunks: ChunkInfo[] }).chunks
}

/** The package a module belongs to: its node_modules package, a workspace package, or the bundler. */
export function packageOf(id: string): string {
  const inModules = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(id)
  if (inModules !== null) return inModules[1] as string
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(id)
  if (workspace !== null) return `@dagsync/${workspace[2]}`
  return '(bundler runtime)'
}

/** `roots` and every chunk they import statically, transitively, leaving out `loaded`. */
export function staticClosure(
  chunks: readonly ChunkInfo[],
  roots: readonly string[],
  loaded: ReadonlySet<string> = new Set(),
): string[] {
  const byFile = new Map(chunks.map((c) => [c.file, c]))
  const out = new Set<string>()
  const visit = (file: string): void => {
    if (out.has(file) || loaded.has(file)) return
    out.add(file)
    for (const next of byFile.get(file)?.imports ?? []) visit(next)
  }
  for (const root of roots) visit(root)
  return [...out]
}

export function group(chunks: readonly ChunkInfo[], files: readonly string[]): ChunkGroup {
  const picked = chunks.filter((c) => files.includes(c.file))
  const packages = new Map<string, number>()
  for (const chunk of picked) {
    for (const [id, bytes] of Object.entries(chunk.modules)) {
      const name = packageOf(id)
      packages.set(name, (packages.get(name) ?? 0) + bytes)
    }
  }
  return {
    files: picked.map((c) => c.file),
    bytes: picked.reduce((sum, c) => sum + c.bytes, 0),
    gzipBytes: picked.reduce((sum, c) => sum + c.gzipBytes, 0),
    packages: [...packages].sort((a, b) => b[1] - a[1]),
  }
}
