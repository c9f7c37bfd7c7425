// The certificate and key for secure WebSocket listen addresses (`/tls/ws`, `/wss`: what browsers
// on https pages dial), read from the files config.json's "tls" names and checked as a pair before
// libp2p sees them. Without this, a missing file is a stack trace from libp2p and a key that is
// not the certificate's is a listener that fails every handshake, unnoticed until a browser tries.
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { ApiError } from './api.ts'
import type { DaemonConfig } from './config.ts'
import { plural } from './plural.ts'

/** A "tls" setting that cannot be used: its message names the file and the config key. */
export class TlsConfigError extends ApiError {
  override name = 'TlsConfigError'

  constructor(message: string, options?: ErrorOptions) {
    super('bad-request', message, options)
  }
}

const SET_TLS = `\`dagsync config set tls '{"cert": "/etc/dagsync/cert.pem", "key": "/etc/dagsync/key.pem"}'\``

/** Whether a listen address is a secure WebSocket one (`/tls/ws` or `/wss`). */
export function isSecureWebSocket(address: string): boolean {
  return multiaddr(address)
    .getComponents()
    .some((c) => c.name === 'wss' || c.name === 'tls')
}

async function readSetting(repo: string, file: string, key: string, what: string): Promise<string> {
  const path = resolve(repo, file)
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new TlsConfigError(`cannot read the TLS ${what} ${path} ("${key}" in config.json): ${why} (${code})`, {
      cause: err,
    })
  }
}

/** A certificate and key that load, and what to warn about the certificate's dates, if anything. */
export interface LoadedTls {
  readonly cert: string
  readonly key: string
  readonly warning: string | undefined
}

const DAY_MS = 86_400_000
/** A certificate that ends within this many days gets a warning at start (certbot renews at 30). */
const EXPIRY_WARNING_DAYS = 14

/**
 * Browsers refuse a certificate outside its dates with nothing the page can read, so a start says
 * so when the certificate has expired, is not valid yet, or ends within EXPIRY_WARNING_DAYS.
 */
export function certificateWarning(certificate: X509Certificate, file: string, now: Date): string | undefined {
  const from = new Date(certificate.validFrom)
  const to = new Date(certificate.validTo)
  const what = `the TLS certificate ${file} ("tls.cert")`
  if (now < from) return `${what} is not valid until ${from.toISOString()}: browsers refuse it until then`
  if (now > to) return `${what} expired on ${to.toISOString()}: browsers refuse it; renew it and restart the daemon`
  const days = Math.floor((to.getTime() - now.getTime()) / DAY_MS)
  if (days < EXPIRY_WARNING_DAYS)
    return `${what} expires on ${to.toISOString()} (in ${plural(days, 'day')}): renew it and restart the daemon`
  return undefined
}

/**
 * The PEM certificate and key of `tls` (paths relative to `repo` are taken from there), checked:
 * readable, PEM, and the key the certificate's; its dates are compared with `now`. Undefined when
 * `tls` is not set; then a secure address in `listen` is refused, since it could accept no
 * connection.
 */
export async function loadTls(
  tls: DaemonConfig['tls'],
  listen: readonly string[],
  repo: string,
  now: Date = new Date(),
): Promise<LoadedTls | undefined> {
  if (tls === null) {
    const secure = listen.find(isSecureWebSocket)
    if (secure !== undefined)
      throw new TlsConfigError(
        `cannot listen on ${secure}: a secure WebSocket address needs a certificate and key, and "tls" is not set in config.json: ${SET_TLS}, or listen on /ws behind a reverse proxy that terminates TLS (docs/deploy.md)`,
      )
    return undefined
  }
  const cert = await readSetting(repo, tls.cert, 'tls.cert', 'certificate')
  const key = await readSetting(repo, tls.key, 'tls.key', 'key')
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(cert)
  } catch (err) {
    throw new TlsConfigError(
      `the TLS certificate ${resolve(repo, tls.cert)} ("tls.cert" in config.json) is not a PEM certificate`,
      { cause: err },
    )
  }
  let matches: boolean
  try {
    matches = certificate.checkPrivateKey(createPrivateKey(key))
  } catch (err) {
    const file = resolve(repo, tls.key)
    throw new TlsConfigError(`the TLS key ${file} ("tls.key" in config.json) is not a PEM private key`, { cause: err })
  }
  if (!matches)
    throw new TlsConfigError(
      `the TLS key ${resolve(repo, tls.key)} ("tls.key" in config.json) is not the key of the certificate ${resolve(repo, tls.cert)} ("tls.cert")`,
    )
  return { cert, key, warning: certificateWarning(certificate, resolve(repo, tls.cert), now) }
}
