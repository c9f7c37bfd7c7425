// The "tls" and "announce" settings: what config.json may hold, and the checks a start makes of the
// certificate and key files (readable, PEM, a matching pair) and of secure listen addresses
// without a certificate. The files are made here with the openssl binary.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { readConfig } from '../src/config.ts'
import { certificateWarning, isSecureWebSocket, loadTls, TlsConfigError } from '../src/tls.ts'

let dir: string

/** A self-signed certificate and its key in `dir`, as <name>.cert.pem and <name>.key.pem. */
function makeCertificate(name: string, days = 1): void {
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(days)],
      ...['-keyout', join(dir, `${name}.key.pem`), '-out', join(dir, `${name}.cert.pem`), '-subj', `/CN=${name}`],
    ],
    { stdio: 'ignore' },
  )
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dagsync-tls-'))
  makeCertificate('a')
  makeCertificate('b')
  makeCertificate('month', 30)
  await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n')
})
after(() => rm(dir, { recursive: true, force: true }))

const wss = ['/ip4/127.0.0.1/tcp/4443/tls/ws']

describe('the "tls" setting', () => {
  it('is a certificate and a key file, or null; "announce" is a list of multiaddrs', () => {
    assert.equal(readConfig({}).tls, null)
    assert.equal(readConfig({ tls: null }).tls, null)
    assert.deepEqual(readConfig({ tls: { cert: 'c.pem', key: 'k.pem' } }).tls, { cert: 'c.pem', key: 'k.pem' })
    assert.throws(() => readConfig({ tls: { cert: 'c.pem' } }), /"tls.key" must be a non-empty string/)
    assert.throws(() => readConfig({ tls: { cert: 'c.pem', key: 'k.pem', ca: 'x' } }), /"tls.ca" is not a setting/)
    assert.throws(() => readConfig({ tls: 'cert.pem' }), /"tls" must be an object/)
    assert.deepEqual(readConfig({ announce: wss }).announce, wss)
    assert.throws(() => readConfig({ announce: ['example.com:443'] }), /"announce\[0\]" is not a multiaddr/)
  })

  it('tells secure WebSocket addresses from plain ones', () => {
    assert.equal(isSecureWebSocket('/ip4/127.0.0.1/tcp/4443/tls/ws'), true)
    assert.equal(isSecureWebSocket('/dns4/example.com/tcp/443/tls/sni/example.com/ws'), true)
    assert.equal(isSecureWebSocket('/ip4/127.0.0.1/tcp/4443/wss'), true)
    assert.equal(isSecureWebSocket('/ip4/127.0.0.1/tcp/4011/ws'), false)
  })

  it('loads a certificate (or a chain) and its key, paths relative to the repo', async () => {
    const loaded = await loadTls({ cert: 'a.cert.pem', key: join(dir, 'a.key.pem') }, wss, dir)
    assert.match(loaded?.cert ?? '', /^-----BEGIN CERTIFICATE-----/)
    assert.match(loaded?.key ?? '', /^-----BEGIN PRIVATE KEY-----/)
    assert.equal(await loadTls(null, ['/ip4/127.0.0.1/tcp/4011/ws'], dir), undefined)
    // A chain (fullchain.pem) is the server's certificate first: its key is that one's.
    await writeFile(
      join(dir, 'chain.pem'),
      (await readFile(join(dir, 'a.cert.pem'), 'utf8')) + (await readFile(join(dir, 'b.cert.pem'), 'utf8')),
    )
    assert.ok(await loadTls({ cert: 'chain.pem', key: 'a.key.pem' }, wss, dir))
  })

  it('refuses a file it cannot read, one that is not PEM and a key that is not the certificate’s, naming the file and the key', async () => {
    const refused: [{ cert: string; key: string }, RegExp][] = [
      [
        { cert: 'missing.pem', key: 'a.key.pem' },
        /^cannot read the TLS certificate \S+\/missing\.pem \("tls\.cert" in config\.json\): no such file \(ENOENT\)$/,
      ],
      [{ cert: 'a.cert.pem', key: '.' }, /^cannot read the TLS key \S+ \("tls\.key" in config\.json\): .*\(EISDIR\)$/],
      [
        { cert: 'garbage.pem', key: 'a.key.pem' },
        /^the TLS certificate \S+\/garbage\.pem \("tls\.cert" in config\.json\) is not a PEM certificate$/,
      ],
      [
        { cert: 'a.cert.pem', key: 'garbage.pem' },
        /^the TLS key \S+\/garbage\.pem \("tls\.key" in config\.json\) is not a PEM private key$/,
      ],
      [
        { cert: 'a.cert.pem', key: 'b.key.pem' },
        /^the TLS key \S+\/b\.key\.pem \("tls\.key" in config\.json\) is not the key of the certificate \S+\/a\.cert\.pem \("tls\.cert"\)$/,
      ],
    ]
    for (const [tls, message] of refused) {
      await assert.rejects(loadTls(tls, wss, dir), (err: Error) => {
        assert.ok(err instanceof TlsConfigError)
        assert.equal(err.code, 'bad-request')
        assert.match(err.message, message)
        return true
      })
    }
  })

  it('refuses a secure listen address when "tls" is not set, since it could accept no connection', async () => {
    for (const address of ['/ip4/127.0.0.1/tcp/4443/tls/ws', '/ip4/127.0.0.1/tcp/4443/wss'])
      await assert.rejects(
        loadTls(null, ['/ip4/127.0.0.1/tcp/4011/ws', address], dir),
        new RegExp(`^TlsConfigError: cannot listen on ${address}: .*"tls" is not set in config.json`),
      )
  })

  it('warns at start of a certificate that has expired, is not valid yet, or ends within 14 days', async () => {
    const file = join(dir, 'month.cert.pem')
    const certificate = new X509Certificate(await readFile(file))
    const from = new Date(certificate.validFrom).getTime()
    const to = new Date(certificate.validTo).getTime()
    const day = 86_400_000
    const at = (ms: number) => certificateWarning(certificate, file, new Date(ms))
    assert.equal(at(to - 15 * day), undefined)
    assert.match(at(to - 1.5 * day) ?? '', /\(in 1 day\)/)
    assert.match(
      at(to - 3.5 * day) ?? '',
      /^the TLS certificate \S+month\.cert\.pem \("tls\.cert"\) expires on \S+ \(in 3 days\): renew it/,
    )
    assert.match(at(to + day) ?? '', /\) expired on \S+: browsers refuse it; renew it and restart the daemon$/)
    assert.match(at(from - day) ?? '', /\) is not valid until \S+: browsers refuse it until then$/)
    const loaded = await loadTls({ cert: 'month.cert.pem', key: 'month.key.pem' }, wss, dir, new Date(to + day))
    assert.match(loaded?.warning ?? '', /expired/)
    assert.equal((await loadTls({ cert: 'month.cert.pem', key: 'month.key.pem' }, wss, dir))?.warning, undefined)
  })
})
