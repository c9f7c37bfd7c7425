// The published packages as an app developer meets them: every package is built and packed
// (tools/build-packages.mjs), a copy of examples/todo installs the tarballs with plain npm (no
// workspace links) and builds with tsc (against the packed .d.ts files) and Vite; then the todo
// page runs in Chromium against a real daemon, the docs' browser examples run in pages built from
// the same install, and Node scripts import @dagsync/store and @dagsync/peer from it.
import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { type Browser, chromium, type Page } from 'playwright-core'
import { PUBLISHED, packPackages } from '../tools/build-packages.mjs'
import { cli, cliJson, DaemonProcess, eventually, freePort, Scratch } from './cli-helpers.ts'

const run = promisify(execFile)
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const root = join(import.meta.dirname, '..')
const GUARD = join(root, 'packages', 'peer', 'test', 'loopback-guard.ts')
/** npm's cache, kept between runs so a second install downloads nothing. */
const NPM_CACHE = join(root, 'node_modules', '.cache', 'npm-examples')
/**
 * The third-party packages of the first run's install (no @dagsync/*, no lockfile), hard-linked
 * (or copied) into each later copy before `npm install`, which then adds the tarballs and checks
 * the rest against package.json: ~25 s instead of ~2 min of unpacking 500 packages here.
 */
const DEPS_CACHE = join(root, 'node_modules', '.cache', 'todo-example-node_modules')

const scratch = new Scratch()
let app: string
let browser: Browser

/** The first fenced block of `lang` in a Markdown file. */
/** The first ```lang block of `file`, or of its section under the heading `section` if given. */
async function firstBlock(file: string, lang: string, section?: string): Promise<string> {
  let text = await readFile(join(root, file), 'utf8')
  if (section !== undefined) text = text.slice(text.indexOf(`\n${section}\n`))
  const block = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(text)?.[1]
  assert.ok(block !== undefined, `${file} has a \`\`\`${lang} block${section === undefined ? '' : ` under ${section}`}`)
  return block
}

/** Hard links (fast) where `from` and `to` share a file system, else a copy. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-al', from, to])
  } catch {
    await rm(to, { recursive: true, force: true })
    await run('cp', ['-a', from, to])
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  app = join(await scratch.dir('dagsync-todo-'), 'todo')
  await cp(join(root, 'examples', 'todo'), app, {
    recursive: true,
    filter: (path) => !/[/\\](node_modules|dist|tarballs|package-lock\.json)$/.test(path),
  })
  await packPackages(join(app, 'tarballs'))
  if (existsSync(DEPS_CACHE)) await linkOrCopy(DEPS_CACHE, join(app, 'node_modules'))
  const install = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--cache', NPM_CACHE]
  await run('npm', install, { cwd: app })
  if (!existsSync(DEPS_CACHE)) {
    await linkOrCopy(join(app, 'node_modules'), DEPS_CACHE)
    for (const path of ['@dagsync', '.package-lock.json']) await rm(join(DEPS_CACHE, path), { recursive: true })
  }
  await run('npm', ['run', 'build'], { cwd: app })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
})
after(async () => {
  await browser?.close()
  await scratch.close()
})

/** `vite preview` of a built root in the installed app, its /config.json passed on to `api`. */
async function preview(dir: string, api: string): Promise<string> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    process.execPath,
    [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port)],
    { cwd: dir, env: { ...process.env, DAGSYNC_API: api }, stdio: 'ignore' },
  )
  scratch.defer(async () => {
    child.kill()
  })
  const url = `http://127.0.0.1:${port}/`
  await eventually('vite preview answers', async () =>
    (await fetch(url).catch(() => undefined))?.ok ? true : undefined,
  )
  return url
}

/** A page whose errors and off-loopback requests go to `problems`, and what it logs to `lines`. */
async function openPage(problems: string[], lines: string[] = []): Promise<Page> {
  const context = await browser.newContext()
  await context.route(
    (url) => !['127.0.0.1', 'localhost'].includes(url.hostname),
    (route) => {
      problems.push(`off-loopback request: ${route.request().url()}`)
      return route.abort()
    },
  )
  const page = await context.newPage()
  page.on('pageerror', (err) => problems.push(err.message))
  // What the page's console.log printed: strings as they are, other values as JSON.
  page.on('console', async (message) => {
    const values = await Promise.all(message.args().map((arg) => arg.jsonValue().catch(() => '?')))
    lines.push(values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' '))
  })
  return page
}

/** Waits for a line of `log` that `match` accepts (and returns what it returns); a timeout shows the log. */
async function printed<T>(log: string[], what: string, match: (line: string) => T | undefined): Promise<T> {
  try {
    return await eventually(what, async () => log.map(match).find((found) => found !== undefined), 60_000)
  } catch (err) {
    throw new Error(`${(err as Error).message}; the page printed:\n${log.join('\n')}`)
  }
}

async function startDaemon(): Promise<{ repo: string; api: string; address: string; demo: string }> {
  const repo = await scratch.dir()
  const daemon = await DaemonProcess.start(scratch, repo)
  const ready = await daemon.ready
  const demo = ready.stores.find((s) => s.names.includes('demo'))?.id
  assert.ok(demo !== undefined)
  return { repo, api: ready.api, address: ready.addresses[0] as string, demo }
}

// The browser and Node checks are independent (each its own daemon and pages) and mostly wait: run together.
describe('the packed packages, installed with npm', { concurrency: true }, () => {
  it('each is built ESM with .d.ts files and source maps, an exports map, its licence and README, and no workspace links', async () => {
    for (const name of PUBLISHED) {
      const dir = join(app, 'node_modules', '@dagsync', name)
      const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
      assert.equal(manifest.license, 'Apache-2.0 OR MIT')
      assert.equal(manifest.private, undefined)
      assert.equal(manifest.type, 'module')
      assert.equal(manifest.repository.directory, `packages/${name}`)
      for (const [subpath, target] of Object.entries<{ types: string; import: string }>(manifest.exports)) {
        assert.match(target.types, /^\.\/dist\/.*\.d\.ts$/, `${name} ${subpath}`)
        assert.match(target.import, /^\.\/dist\/.*\.js$/, `${name} ${subpath}`)
        for (const file of [target.types, target.import, `${target.import}.map`, `${target.types}.map`])
          assert.ok(existsSync(join(dir, file)), `${name} has ${file}`)
      }
      for (const dep of Object.keys(manifest.dependencies).filter((d) => d.startsWith('@dagsync/')))
        assert.equal(manifest.dependencies[dep], manifest.version, `${name} depends on ${dep} by version`)
      for (const file of ['README.md', 'LICENSE', 'LICENSE-APACHE', 'LICENSE-MIT'])
        assert.ok(existsSync(join(dir, file)), `${name} has ${file}`)
      // What was installed is what this run built, not an earlier install's.
      const built = join(root, 'packages', name, 'dist', 'index.js')
      assert.equal(await readFile(join(dir, 'dist', 'index.js'), 'utf8'), await readFile(built, 'utf8'))
    }
  })

  it('the todo example follows a daemon: items written with the CLI appear, items added and ticked on the page reach the daemon', async () => {
    const { repo, api } = await startDaemon()
    const url = await preview(app, api)
    const problems: string[] = []
    const page = await openPage(problems)
    const item = (key: string) => page.locator(`#todos li[data-key="${key}"]`)

    await page.goto(`${url}?store=demo`)
    await item('todo/3').waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('#todos li').count(), 3, 'the demo store has three todos')

    // A write on the daemon appears live.
    const put = await cli(scratch, repo, ['put', 'demo', 'todo/4', '{"title": "from the CLI", "done": false}'])
    assert.equal(put.code, 0, put.stderr)
    await item('todo/4').waitFor({ timeout: 10_000 })
    assert.equal(await item('todo/4').textContent(), ' from the CLI')

    // A write from the page is refused until the writer allows this browser, with the command to run.
    const peerId = (await page.locator('#status').getAttribute('data-peer')) as string
    assert.match(peerId, /^12D3KooW/)
    await page.fill('#title', 'from the page')
    await page.click('#add button')
    await page.locator('#message', { hasText: 'may not write' }).waitFor({ timeout: 30_000 })
    assert.match((await page.locator('#message').textContent()) ?? '', new RegExp(`store allow demo ${peerId}$`))
    assert.equal(await page.locator('#todos li').count(), 4, 'nothing was added')

    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', peerId])).code, 0)
    await page.fill('#title', 'from the page')
    await page.click('#add button')
    const added = page.locator('#todos li', { hasText: 'from the page' })
    await added.waitFor({ timeout: 30_000 })
    const key = (await added.getAttribute('data-key')) as string
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', key])).value, {
      title: 'from the page',
      done: false,
    })

    // Ticking an item is a write too.
    await item('todo/2').locator('input').check()
    await page.locator('#todos li[data-key="todo/2"][data-done="true"]').waitFor({ timeout: 30_000 })
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'todo/2'])).value, {
      title: 'Follow this store from a second daemon',
      done: true,
    })
    assert.deepEqual(problems, [])
    await page.context().close()
  })

  it("docs/browser.md's embedding example and @dagsync/browser's README example run as written", async () => {
    const { repo, api, address, demo } = await startDaemon()
    // Each example is a page's module script, with the placeholders replaced by this daemon's address and store.
    const fill = (code: string) =>
      code.replace('/ip4/127.0.0.1/tcp/4011/ws/p2p/12D3KooW...', address).replace('k51qzi5uqu5d...', demo)
    const pages = join(app, 'doc-pages')
    await mkdir(pages, { recursive: true })
    const html = (script: string) =>
      `<!doctype html><html><body><script type="module" src="${script}"></script></body></html>`
    await writeFile(
      join(pages, 'docs.js'),
      fill(await firstBlock('docs/browser.md', 'js', '## Embedding a peer in your own page')),
    )
    await writeFile(join(pages, 'docs.html'), html('./docs.js'))
    await writeFile(join(pages, 'readme.js'), fill(await firstBlock('packages/browser/README.md', 'js')))
    await writeFile(join(pages, 'index.html'), html('./readme.js'))
    await writeFile(
      join(pages, 'vite.config.js'),
      "export default { build: { target: 'es2023', rollupOptions: { input: ['index.html', 'docs.html'] } } }\n",
    )
    await run(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: pages,
    })
    const url = await preview(pages, api)
    const problems: string[] = []

    // The README's: reads a key, then logs each commit.
    const readmeLog: string[] = []
    const readme = await openPage(problems, readmeLog)
    await readme.goto(url)
    await printed(readmeLog, 'the README example read todo/1', (line) => line.includes('Read the README') || undefined)
    assert.equal((await cli(scratch, repo, ['put', 'demo', 'todo/7', '{"title": "seven"}'])).code, 0)
    await printed(readmeLog, 'the README example logged the commit', (line) => line === 'commit 2: 1 keys' || undefined)
    await readme.context().close()

    // The guide's: refused until allowed (it says whom to allow), then writes and transacts.
    const docsLog: string[] = []
    const docs = await openPage(problems, docsLog)
    await docs.goto(`${url}docs.html`)
    const refusal = await printed(
      docsLog,
      'the guide example was refused',
      (line) => /^ask the writer to allow (12D3KooW\w+)$/.exec(line)?.[1],
    )
    assert.equal((await cli(scratch, repo, ['get', 'demo', 'todo/5'])).code, 3, 'nothing was written')
    assert.equal((await cli(scratch, repo, ['store', 'allow', 'demo', refusal])).code, 0)
    // The page runs again with the same IndexedDB database, so the same peer id, once the daemon
    // has seen the first run's connection close.
    await docs.goto('about:blank')
    await eventually('the daemon saw the page leave', async () => {
      const peers = await cliJson<{ id: string }[]>(scratch, repo, ['peers'])
      return peers.some((peer) => peer.id === refusal) ? undefined : true
    })
    await docs.goto(`${url}docs.html`)
    // Its watch sees its own writes arrive: the assoc, then the transaction's three changes.
    await printed(docsLog, 'the guide example wrote', (line) => /^commit \d+ changed 1 keys$/.test(line) || undefined)
    await printed(
      docsLog,
      'the guide example transacted',
      (line) => /^commit \d+ changed 3 keys$/.test(line) || undefined,
    )
    assert.equal((await cli(scratch, repo, ['get', 'demo', 'todo/1'])).code, 3, 'todo/1 was deleted')
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'todo/5'])).value, {
      title: 'from the browser',
      done: true,
    })
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'demo', 'todo/6'])).value, {
      title: 'one',
      done: false,
    })
    assert.deepEqual(problems, [])
    await docs.context().close()
  })

  it("@dagsync/store and @dagsync/peer work from Node: docs/replication.md's example syncs two nodes, and each README's example runs", async () => {
    const examples = {
      'replication.mjs': await firstBlock('docs/replication.md', 'ts'),
      'tree.mjs': await firstBlock('packages/tree/README.md', 'ts'),
      'store.mjs': await firstBlock('packages/store/README.md', 'ts'),
      'peer.mjs': await firstBlock('packages/peer/README.md', 'ts'),
    }
    const env = { ...process.env, DAGSYNC_LOOPBACK_LOG: await scratch.guardLog() }
    // All at once: each mostly waits (node start, loopback round trips).
    const outputs = Object.fromEntries(
      await Promise.all(
        Object.entries(examples).map(async ([name, code]) => {
          await writeFile(join(app, name), code)
          const { stdout } = await run(process.execPath, ['--import', GUARD, name], { cwd: app, timeout: 60_000, env })
          return [name, stdout] as const
        }),
      ),
    )
    assert.match(outputs['replication.mjs'] as string, /^hello\n2 \[ \[ 'greeting', 'hello', 'hi' \] \]\n3 true\n/)
    assert.match(outputs['tree.mjs'] as string, /^\{ name: 'Bob' \}\nundefined\nuser\/bob\n$/)
    assert.equal(outputs['store.mjs'], '2 true\ntodo/1\n')
    assert.equal(outputs['peer.mjs'], 'hello\n')
  })
})
