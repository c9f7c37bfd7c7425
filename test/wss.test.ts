// Browsers on https pages, in real Chromium against real daemon processes: a page served over
// https syncs over wss, both from the daemon's own TLS listener and through a reverse proxy that
// terminates TLS in front of a plain /ws listener, and says what to set when the daemon offers no
// wss address. The certificate is self-signed, made here with openssl; Chromium trusts exactly its
// key (--ignore-certificate-errors-spki-list), as a browser trusts a real site's certificate.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Browser, chromium, type Page } from 'playwright-core'
import { cli, DaemonProcess, freePort, type ReadyLine, Scratch } from './cli-helpers.ts'
import { HttpsFront } from './https-front.ts'
import { CHROMIUM, keyRow, openPage } from './web-page.ts'

const root = join(import.meta.dirname, '..')
const scratch = new Scratch()
let browser: Browser
let certDir: string
let webRoot: string

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM} (apt-get install chromium; .ci/run does)`)
  certDir = await scratch.dir('dagsync-tls-')
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'],
      ...['-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-subj', '/CN=localhost'],
      ...['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ],
    { stdio: 'ignore' },
  )
  const spki = new X509Certificate(await readFile(join(certDir, 'cert.pem'))).publicKey.export({
    type: 'spki',
    format: 'der',
  })
  // Built from the current sources into a directory of its own (browser.test.ts builds dist/).
  webRoot = join(await scratch.dir('dagsync-web-'), 'dist')
  execFileSync(
    join(root, 'apps', 'web', 'node_modules', '.bin', 'vite'),
    ['build', '--logLevel', 'warn', '--outDir', webRoot],
    { cwd: join(root, 'apps', 'web'), stdio: 'inherit' },
  )
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
    ],
  })
})
after(async () => {
  await browser?.close()
  await scratch.close()
})

/** A repo whose config.json has `settings` (set with the CLI, as an operator would). */
async function repoWith(settings: Record<string, unknown>): Promise<string> {
  const repo = await scratch.dir()
  assert.equal((await cli(scratch, repo, ['init'])).code, 0)
  for (const [key, value] of Object.entries(settings)) {
    const set = await cli(scratch, repo, ['config', 'set', key, JSON.stringify(value)])
    assert.equal(set.code, 0, set.stderr)
  }
  return repo
}

const tlsSetting = () => ({ cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') })

/** Opens the page at `url` and returns it once it shows the demo store, with what went wrong on it. */
async function visit(url: string): Promise<{ page: Page; errors: string[] }> {
  const { page, errors } = await openPage(browser)
  await page.goto(url)
  return { page, errors }
}

/** The page shows the store, a write on the daemon arrives, and the page's connection is `expected`. */
async function assertSyncs(page: Page, daemon: ReadyLine, repo: string, expected: RegExp): Promise<void> {
  await keyRow(page, 'welcome').waitFor({ timeout: 30_000 })
  await page.locator('#connection[data-state="online"]').waitFor()
  assert.equal((await cli(scratch, repo, ['put', 'demo', 'over/wss', '"hello"'])).code, 0)
  await keyRow(page, 'over/wss').waitFor({ timeout: 10_000 })
  const remotes = await page.evaluate(() =>
    window.dagsync?.peer.node?.libp2p.getConnections().map((c) => c.remoteAddr.toString()),
  )
  assert.ok(remotes !== undefined && remotes.length > 0)
  for (const remote of remotes) assert.match(remote, expected)
  assert.match(remotes[0] as string, new RegExp(daemon.peerId))
}

describe('browsers on https pages', () => {
  it('a page served over https syncs over the wss listener of a daemon with a certificate', async () => {
    const repo = await repoWith({ tls: tlsSetting() })
    const daemon = await DaemonProcess.start(
      scratch,
      repo,
      {},
      {
        listen: ['/ip4/127.0.0.1/tcp/0/ws', '/ip4/127.0.0.1/tcp/0/tls/ws'],
      },
    )
    const ready = await daemon.ready
    const wss = ready.addresses.find((a) => a.includes('/tls/ws/'))
    assert.ok(wss, `the daemon announces its wss address: ${ready.addresses}`)
    const front = await HttpsFront.start({ ...(await tlsFiles()), webRoot, api: ready.api })
    scratch.defer(() => front.close())
    const { page, errors } = await visit(front.url)
    await assertSyncs(page, ready, repo, new RegExp(`^${wss.split('/p2p/')[0]}`))
    assert.deepEqual(errors, [])
    await page.context().close()
    await daemon.stop()
  })

  it('behind a reverse proxy that terminates TLS, the page dials the wss address the daemon announces', async () => {
    const wsPort = await freePort()
    const proxyPort = await freePort()
    const proxied = `/ip4/127.0.0.1/tcp/${proxyPort}/tls/ws`
    const repo = await repoWith({ announce: [proxied] })
    const daemon = await DaemonProcess.start(scratch, repo, { ws: wsPort })
    const ready = await daemon.ready
    // The ready line is `dagsync id`'s answer.
    assert.ok(
      ready.addresses.includes(`${proxied}/p2p/${ready.peerId}`),
      `the daemon lists the announced address: ${ready.addresses}`,
    )
    const front = await HttpsFront.start({
      ...(await tlsFiles()),
      webRoot,
      api: ready.api,
      port: proxyPort,
      websockets: wsPort,
    })
    scratch.defer(() => front.close())
    const { page, errors } = await visit(front.url)
    await assertSyncs(page, ready, repo, new RegExp(`^${proxied}`))
    assert.equal(front.upgrades > 0, true, 'the page reached the daemon through the proxy')
    assert.deepEqual(errors, [])
    await page.context().close()
    await daemon.stop()
  })

  it('a page served over https from a daemon with no wss address says what to set', async () => {
    const repo = await repoWith({})
    const daemon = await DaemonProcess.start(scratch, repo)
    const ready = await daemon.ready
    const front = await HttpsFront.start({ ...(await tlsFiles()), webRoot, api: ready.api })
    scratch.defer(() => front.close())
    const { page } = await visit(front.url)
    await page.locator('#connection[data-state="error"]').waitFor({ timeout: 30_000 })
    assert.match(
      (await page.locator('#write-message').textContent()) ?? '',
      /served over https, so it can only dial wss:\/\/ addresses, and the daemon offers none: .*"tls".*"announce"/,
    )
    // It stopped before starting a peer (which would dial the ws:// address the browser blocks).
    assert.deepEqual(await page.evaluate(() => window.dagsync), undefined)
    await page.context().close()
    await daemon.stop()
  })
})

describe('daemons over wss', () => {
  it('a daemon dials another one’s wss address if it trusts the certificate (NODE_EXTRA_CA_CERTS), and not otherwise', async () => {
    const writerRepo = await repoWith({ tls: tlsSetting() })
    const writer = await (
      await DaemonProcess.start(scratch, writerRepo, {}, { listen: ['/ip4/127.0.0.1/tcp/0/tls/ws'] })
    ).ready
    const wss = writer.addresses[0] as string
    assert.match(wss, /\/tls\/ws\/p2p\//)
    const demo = writer.stores.find((s) => s.names.includes('demo'))?.id as string

    const untrusting = await scratch.dir()
    await DaemonProcess.start(scratch, untrusting)
    const refused = await cli(scratch, untrusting, ['peers', 'connect', wss])
    assert.equal(refused.code, 5, refused.stderr)

    const readerRepo = await scratch.dir()
    await DaemonProcess.start(scratch, readerRepo, {}, { env: { NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem') } })
    const connected = await cli(scratch, readerRepo, ['peers', 'connect', wss])
    assert.equal(connected.code, 0, connected.stderr)
    assert.equal((await cli(scratch, readerRepo, ['store', 'follow', demo, '--name', 'shared'])).code, 0)
    const welcome = await cli(scratch, readerRepo, ['get', 'shared', 'welcome'])
    assert.equal(welcome.code, 0, welcome.stderr)
    assert.match(welcome.stdout, /demo store/)
  })
})

describe('a "tls" setting that cannot be used', () => {
  // The other refusals (not PEM, a key that is not the certificate's, wss without "tls") are
  // checked in apps/daemon/test/tls.test.ts; this is what the operator sees of one.
  it('stops the daemon with one line naming the file and the setting, exit 2', async () => {
    const repo = await repoWith({ tls: { ...tlsSetting(), cert: join(certDir, 'missing.pem') } })
    const result = await cli(scratch, repo, [
      'daemon',
      '--listen',
      '/ip4/127.0.0.1/tcp/0/tls/ws',
      '--api-address',
      '127.0.0.1:0',
    ])
    assert.equal(result.code, 2, result.stderr)
    assert.match(
      result.stderr.replace(/^\{.*\}\n/gm, ''), // the log's JSON lines
      /^dagsync: cannot read the TLS certificate \S+missing\.pem \("tls\.cert" in config\.json\): no such file \(ENOENT\)\n$/,
    )
  })
})

/** The certificate and key files' contents. */
async function tlsFiles(): Promise<{ cert: string; key: string }> {
  return {
    cert: await readFile(join(certDir, 'cert.pem'), 'utf8'),
    key: await readFile(join(certDir, 'key.pem'), 'utf8'),
  }
}
