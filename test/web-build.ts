// Builds the web app for the browser tests from the current sources, once: test files run two at
// a time, and a second build emptying apps/web/dist would pull the page from under the other's
// daemon. A lock directory makes the second wait; it then finds the build fresh and skips it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { readChunkGraph } from '../apps/web/build/bundle-report.ts'

const root = join(import.meta.dirname, '..')
const web = join(root, 'apps', 'web')
const built = join(web, 'dist', 'index.html')
/** What the build says is in the bundle (apps/web/build/chunk-graph.ts). */
export const chunkGraphFile = join(web, '.bundle', 'chunks.json')
const lock = join(web, '.build-lock')

/** The newest modification time of the files under `path`. */
function newest(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

function fresh(): boolean {
  const sources = [
    join(web, 'src'),
    join(web, 'public'),
    join(web, 'index.html'),
    join(web, 'vite.config.ts'),
    join(web, 'build'),
    ...['tree', 'store', 'peer', 'browser'].flatMap((p) => [
      join(root, 'packages', p, 'src'),
      // Its `browser` map and exports decide which files a bundle takes.
      join(root, 'packages', p, 'package.json'),
    ]),
  ]
  return existsSync(built) && existsSync(chunkGraphFile) && Math.max(...sources.map(newest)) <= statSync(built).mtimeMs
}

export function buildWebApp(): void {
  const deadline = Date.now() + 120_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for 2 minutes: remove it if no test runs`)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200)
    }
  }
  try {
    if (!fresh())
      execFileSync(join(web, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
        cwd: web,
        stdio: 'inherit',
      })
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** The file name of the built web app's chunk that holds the node (libp2p and the sync code). */
export function webNodeChunk(): string {
  const chunk = readChunkGraph(chunkGraphFile).find((c) =>
    Object.keys(c.modules).some((id) => id.endsWith('packages/browser/src/page-node.ts')),
  )
  assert.ok(chunk !== undefined, 'the build has a chunk of its own for the node')
  return chunk.file
}
