// The web app's bundle budget (issue 17): the JavaScript a page loads before it can show its
// first key, gzipped, stays within 150 KB, on a first visit too (the page and the start over
// HTTP, http-start.ts); libp2p and the sync code, their fallbacks included, are a chunk of their
// own, loaded with `import()` once a key is shown. The test builds the page from the current
// sources and prints what each part weighs and which packages make it up (docs/bundle.md has the
// numbers; test/web-first-key.test.ts counts the same from Chromium's requests).
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { type ChunkGroup, group, readChunkGraph, staticClosure } from '../apps/web/build/bundle-report.ts'
import type { ChunkInfo } from '../apps/web/build/chunk-graph.ts'
import { buildWebApp, chunkGraphFile } from './web-build.ts'

/** The budget of what loads with the page, gzipped. */
const FIRST_KEY_BUDGET = 150_000

let chunks: ChunkInfo[]
before(() => {
  buildWebApp()
  chunks = readChunkGraph(chunkGraphFile)
})

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`

function report(label: string, part: ChunkGroup): string {
  const total = part.packages.reduce((sum, [, bytes]) => sum + bytes, 0)
  const top = part.packages
    .slice(0, 12)
    .map(([name, bytes]) => `    ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${name}`)
  return [`${label}: ${kb(part.bytes)}, ${kb(part.gzipBytes)} gzipped (${part.files.join(', ')})`, ...top].join('\n')
}

/** The chunk a module of this repository is in, by the end of its path. */
function chunkWith(path: string): ChunkInfo {
  const found = chunks.find((c) => Object.keys(c.modules).some((id) => id.endsWith(path)))
  assert.ok(found !== undefined, `no chunk holds ${path}`)
  return found
}

function pageLoad(): string[] {
  const entry = chunks.filter((c) => c.entry)
  assert.equal(entry.length, 1, 'the page has one entry chunk')
  return staticClosure(chunks, [(entry[0] as ChunkInfo).file])
}

describe('the web app bundle', () => {
  it('loads at most 150 KB of gzipped JavaScript before it shows a key, on a first visit too, and reports the rest', () => {
    const initial = pageLoad()
    const first = group(chunks, initial)
    const httpStart = staticClosure(chunks, [chunkWith('packages/browser/src/http-start.ts').file], new Set(initial))
    const firstVisit = group(chunks, [...initial, ...httpStart])
    const node = group(
      chunks,
      staticClosure(chunks, [chunkWith('packages/browser/src/page-node.ts').file], new Set([...initial, ...httpStart])),
    )
    const all = group(
      chunks,
      chunks.map((c) => c.file),
    )
    process.stdout.write(
      `${[
        report('with the page (shows the replica it holds)', first),
        report('a first visit: the page and the start over HTTP', firstVisit),
        report('once a key is shown: the node (libp2p, sync)', node),
        `all JavaScript: ${kb(all.bytes)}, ${kb(all.gzipBytes)} gzipped, in ${chunks.length} chunks`,
      ].join('\n')}\n`,
    )
    assert.ok(
      first.gzipBytes <= FIRST_KEY_BUDGET,
      `the page loads ${kb(first.gzipBytes)} gzipped before its first key, over the ${kb(FIRST_KEY_BUDGET)} budget`,
    )
    assert.ok(
      firstVisit.gzipBytes <= FIRST_KEY_BUDGET,
      `a first visit loads ${kb(firstVisit.gzipBytes)} gzipped before its first key, over the ${kb(FIRST_KEY_BUDGET)} budget`,
    )
  })

  it("leaves libp2p and Vite's modulepreload polyfill out of what loads before a first key, and kad-dht out of every chunk", () => {
    const initial = new Set([
      ...pageLoad(),
      ...staticClosure(chunks, [chunkWith('packages/browser/src/http-start.ts').file]),
    ])
    const withPage = chunks.filter((c) => initial.has(c.file)).flatMap((c) => Object.keys(c.modules))
    for (const heavy of ['/node_modules/libp2p/', '/node_modules/@libp2p/gossipsub/', '/node_modules/helia/'])
      assert.ok(!withPage.some((id) => id.includes(heavy)), `${heavy} loads with the page`)
    assert.ok(!withPage.some((id) => id.includes('modulepreload-polyfill')), 'the modulepreload polyfill loads')
    const dht = chunks.flatMap((c) => Object.keys(c.modules)).filter((id) => id.includes('/@libp2p/kad-dht/'))
    assert.deepEqual(dht, [], 'a browser bundle holds no DHT')
  })
})
