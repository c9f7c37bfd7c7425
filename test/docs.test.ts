// Every ```ts block in docs/*.md, README.md and the packages' READMEs must run as written: each is
// saved as a module inside this workspace package (so `@dagsync/...` imports resolve) and run with
// node. (test/packages.test.ts runs the packages' READMEs again from the packed tarballs.)
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { cli, DaemonProcess, Scratch } from './cli-helpers.ts'

const run = promisify(execFile)
const root = new URL('..', import.meta.url).pathname
const scratch = await mkdtemp(join(root, 'test', '.docs-'))
after(() => rm(scratch, { recursive: true, force: true }))

const files = [
  'README.md',
  ...(await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...(await readdir(join(root, 'packages'))).map((p) => `packages/${p}/README.md`),
]

/**
 * `console.log(...) // output` promises what the line prints: every such comment must match a
 * printed line, in order. Quotes and spaces are ignored (node prints `[ 'a' ]` for `['a']`), and
 * so is anything after a `:` that follows the closing of the value, e.g. `// 1 2: because`.
 */
function assertPrinted(code: string, stdout: string): void {
  const normalize = (s: string) => s.replace(/['"\s]/g, '')
  const expected = [...code.matchAll(/console\.log\(.*\) \/\/ (.*)$/gm)].map((m) =>
    normalize(m[1].replace(/: [^:'"]*$/, '')),
  )
  const printed = stdout.split('\n').map(normalize)
  let at = 0
  for (const want of expected) {
    const found = printed.indexOf(want, at)
    assert.notEqual(found, -1, `expected a line printing ${want}; printed:\n${stdout}`)
    at = found + 1
  }
}

/** A shell line's words: single and double quotes group, as in sh (no escapes or variables). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? (m[3] as string))
}

for (const file of files) {
  const text = await readFile(join(root, file), 'utf8')
  // ```console blocks are CLI sessions: each `$ dagsync ...` line runs, in order, against a fresh
  // daemon on a fresh repo, and must succeed.
  const sessions = [...text.matchAll(/```console\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split('\n')
      .filter((line) => line.startsWith('$ dagsync '))
      .map((line) => words(line.slice('$ dagsync '.length))),
  )
  sessions.forEach((commands, i) => {
    it(`CLI session ${i + 1} in ${file} runs`, async () => {
      const scratch = new Scratch()
      try {
        const repo = await scratch.dir()
        const cwd = await scratch.dir()
        await DaemonProcess.start(scratch, repo)
        for (const args of commands) {
          const result = await cli(scratch, repo, args, { cwd })
          assert.equal(result.code, 0, `dagsync ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
          assert.notEqual(result.stdout, '', `dagsync ${args.join(' ')} printed something`)
        }
      } finally {
        await scratch.close()
      }
    })
  })
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
  if (blocks.length === 0) continue
  describe(`examples in ${file}`, () => {
    blocks.forEach((code, i) => {
      it(`example ${i + 1} runs`, async () => {
        const path = join(scratch, `${file.replace(/[/.]/g, '-')}-${i + 1}.ts`)
        await writeFile(path, code)
        const { stdout, stderr } = await run(process.execPath, [path], { cwd: root, timeout: 60_000 })
        assert.doesNotMatch(stderr, /Error/)
        assertPrinted(code, stdout)
      })
    })
  })
}
