// The source layout docs/architecture.md promises: no import cycle between source files, every
// source file opens with a comment saying what it is for, and every file the document names
// exists.
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'

const root = resolve(import.meta.dirname, '..')

/** Every .ts file under the packages' and apps' src directories. */
function sources(): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
    }
  }
  for (const top of ['packages', 'apps'])
    for (const pkg of readdirSync(join(root, top)))
      if (existsSync(join(root, top, pkg, 'src'))) walk(join(root, top, pkg, 'src'))
  return out
}

/** Each workspace package's exports, as `@dagsync/x/sub` → file. */
function packageEntries(): Map<string, string> {
  const out = new Map<string, string>()
  for (const top of ['packages', 'apps'])
    for (const pkg of readdirSync(join(root, top))) {
      const manifest = join(root, top, pkg, 'package.json')
      if (!existsSync(manifest)) continue
      const { name, exports = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name: string
        exports?: Record<string, string | Record<string, string>>
      }
      for (const [sub, target] of Object.entries(exports)) {
        const file = typeof target === 'string' ? target : (target.import ?? target.default ?? Object.values(target)[0])
        out.set(name + sub.slice(1), resolve(root, top, pkg, file))
      }
    }
  return out
}

/** The files a source file imports at run time (type-only imports are erased, so they cannot cycle). */
function runtimeImports(file: string, entries: Map<string, string>): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  const out: string[] = []
  // `from '…'`, `import('…')`, and a bare `import '…'`.
  const forms =
    /(?:import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g
  for (const m of code.matchAll(forms)) {
    if (m[1] !== undefined) continue
    const spec = m[2] ?? m[3] ?? m[4]
    const target = spec.startsWith('.') ? resolve(dirname(file), spec) : entries.get(spec)
    if (target !== undefined) out.push(target)
  }
  return out
}

/** The import cycles among `files`, each as the files around it. */
function importCycles(files: readonly string[], imports: (file: string) => string[]): string[][] {
  const graph = new Map(files.map((f) => [f, imports(f)]))
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const cycles: string[][] = []
  const visit = (file: string): void => {
    state.set(file, 'open')
    stack.push(file)
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next])
      else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(file, 'done')
  }
  for (const file of graph.keys()) if (!state.has(file)) visit(file)
  return cycles
}

describe('the source layout', () => {
  it('has no import cycle between source files', () => {
    const entries = packageEntries()
    const files = sources()
    assert.ok(files.length > 100, 'the search sees the sources')
    const cycles = importCycles(files, (file) => runtimeImports(file, entries))
    assert.deepEqual(
      cycles.map((cycle) => cycle.map((f) => relative(root, f)).join(' -> ')),
      [],
    )
  })

  it('finds a cycle when there is one', () => {
    const graph: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['a'] }
    assert.deepEqual(
      importCycles(Object.keys(graph), (f) => graph[f]),
      [['a', 'b', 'c', 'a']],
    )
  })

  it('opens every source file with a comment saying what it is for', () => {
    const bare = sources().filter((file) => {
      const lines = readFileSync(file, 'utf8').split('\n')
      const first = lines[0].startsWith('#!') ? lines[1] : lines[0]
      return !/^(\/\/ \S|\/\*\*?$|\/\*\*? \S)/.test(first)
    })
    assert.deepEqual(
      bare.map((f) => relative(root, f)),
      [],
    )
  })

  it('names only files that exist in docs/architecture.md', () => {
    const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8')
    const named = new Set([...doc.matchAll(/((?:packages|apps)\/[\w./-]+\.ts)/g)].map((m) => m[1]))
    assert.ok(named.size >= 20, `the document names files (${named.size} found)`)
    assert.deepEqual(
      [...named].filter((path) => !existsSync(join(root, path))),
      [],
    )
  })
})
