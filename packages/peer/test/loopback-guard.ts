// Imported first by network tests: records every outgoing TCP connection, DNS lookup and UDP
// socket this process opens and refuses any that is not loopback, so a test that would reach
// outside 127.0.0.1 fails instead of sending traffic. Child processes load it with
// `node --import`; they append what they refused to the file DAGSYNC_LOOPBACK_LOG names.
import dgram from 'node:dgram'
import dns from 'node:dns'
import { appendFileSync } from 'node:fs'
import net from 'node:net'

export const violations: string[] = []
const logFile = process.env.DAGSYNC_LOOPBACK_LOG
function record(violation: string): void {
  violations.push(violation)
  if (logFile !== undefined) appendFileSync(logFile, `${process.pid} ${violation}\n`)
}

const isLoopback = (host: string | undefined): boolean =>
  host === undefined || host === 'localhost' || host.startsWith('127.') || host === '::1'

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0] as { host?: string; path?: string } | number | unknown[]
  const host = Array.isArray(first)
    ? (first[0] as { host?: string })?.host
    : typeof first === 'object' && first !== null
      ? first.path === undefined
        ? first.host
        : undefined
      : typeof args[1] === 'string'
        ? args[1]
        : undefined
  if (!isLoopback(host)) {
    record(`tcp ${host}`)
    throw new Error(`loopback guard: refused a connection to ${host}`)
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args)
} as typeof connect

const lookup = dns.lookup
;(dns as { lookup: unknown }).lookup = function (host: string, ...rest: unknown[]) {
  if (!isLoopback(host)) record(`dns ${host}`)
  return (lookup as (...a: unknown[]) => unknown).call(this, host, ...rest)
}

const createSocket = dgram.createSocket
;(dgram as { createSocket: unknown }).createSocket = function (...args: unknown[]) {
  record(`udp ${JSON.stringify(args[0])}`)
  return (createSocket as (...a: unknown[]) => unknown).apply(this, args)
}
