// Every environment variable the code reads is documented: the sources of the apps and packages
// and the tools are searched for `process.env.X` (and `process.env['X']`), and each X must be in
// docs/cli.md's table of environment variables.
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { it } from 'node:test'

const root = join(import.meta.dirname, '..')

async function sources(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!['node_modules', 'dist', 'test', 'runtime'].includes(entry.name)) out.push(...(await sources(path)))
    } else if (/\.(ts|mjs|js)$/.test(entry.name)) out.push(path)
  }
  return out
}

it('docs/cli.md documents every environment variable the code reads', async () => {
  const files = [
    ...(await sources(join(root, 'apps'))),
    ...(await sources(join(root, 'packages'))),
    ...(await sources(join(root, 'tools'))),
  ]
  const read = new Map<string, string>()
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    for (const match of text.matchAll(/process\.env(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g))
      read.set((match[1] ?? match[2]) as string, file.slice(root.length + 1))
  }
  assert.ok(read.has('DAGSYNC_PINNING_TOKEN'), 'the search finds what the CLI reads')
  const docs = await readFile(join(root, 'docs', 'cli.md'), 'utf8')
  const table = /## Environment variables\n([\s\S]*?)\n## /.exec(docs)?.[1] ?? ''
  const documented = new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]*)`/gm)].map((m) => m[1]))
  const missing = [...read].filter(([name]) => !documented.has(name)).map(([name, file]) => `${name} (${file})`)
  assert.deepEqual(missing, [], 'read but not documented')
})
