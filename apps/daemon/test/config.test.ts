// The config file's validation and the API's wire encoding: the two places where the daemon
// reads text a person or another process wrote.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { apiUrl } from '../src/api-address.ts'
import { decodeWire, encodeWire } from '../src/client.ts'
import { DEFAULT_CONFIG, parseApiAddress, parseGatewayAddress, readConfig } from '../src/config.ts'

describe('config.json', () => {
  it('fills every missing setting with its default', () => {
    assert.deepEqual(readConfig({}), DEFAULT_CONFIG)
    const config = readConfig({ demo: false, gc: { intervalMinutes: 60 } })
    assert.equal(config.demo, false)
    assert.deepEqual(config.gc, { intervalMinutes: 60, keepLast: null })
    assert.deepEqual(config.listen, DEFAULT_CONFIG.listen)
  })

  it('has the defaults docs/daemon.md shows', async () => {
    const docs = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'daemon.md'), 'utf8')
    const block = /## config\.json[\s\S]*?```json\n([\s\S]*?)```/.exec(docs)?.[1]
    assert.deepEqual(JSON.parse(block ?? 'null'), DEFAULT_CONFIG)
  })

  it('refuses a typo, a wrong type, a peer without its id and a non-loopback API, naming the setting', () => {
    const bad: [unknown, RegExp][] = [
      [{ lissen: [] }, /"lissen" is not a setting \(known: listen, api,/],
      [{ demo: 'yes' }, /"demo" must be true or false/],
      [{ peers: ['/ip4/127.0.0.1/tcp/4011/ws'] }, /"peers\[0\]" must end in \/p2p\/<peer id>/],
      [{ listen: ['not a multiaddr'] }, /"listen\[0\]" is not a multiaddr/],
      [{ api: '0.0.0.0:5011' }, /"api" API address "0.0.0.0:5011" must be a loopback host/],
      [{ gc: { keepLast: 0 } }, /"gc.keepLast" must be an integer of at least 1/],
      [{ logLevel: 'loud' }, /"logLevel" must be one of trace, debug/],
      [{ follow: [{ id: 'k51x', sparse: 'no' }] }, /"follow\[0\].sparse" must be true or false/],
      [{ dht: { enabled: 'yes' } }, /"dht.enabled" must be true or false/],
      [{ dht: { bootstrap: ['/ip4/127.0.0.1/tcp/4011/ws'] } }, /"dht.bootstrap\[0\]" must end in \/p2p\/<peer id>/],
      [{ dht: { bootstrapp: [] } }, /"dht.bootstrapp" is not a setting \(known: enabled, bootstrap\)/],
      [{ relay: { enabled: 'no' } }, /"relay.enabled" must be true or false/],
      [{ relay: { maxReservations: 0 } }, /"relay.maxReservations" must be an integer of at least 1/],
      [{ relay: { durationLimitMs: 10 } }, /"relay.durationLimitMs" must be an integer of at least 1000/],
      [{ relay: { dataLimitBytes: 1.5 } }, /"relay.dataLimitBytes" must be an integer of at least 1024/],
      [{ relay: { max: 3 } }, /"relay.max" is not a setting \(known: enabled, maxReservations,/],
      [{ connections: { maxConnections: 0 } }, /"connections.maxConnections" must be an integer of at least 1/],
      [
        { connections: { maxPendingInbound: '64' } },
        /"connections.maxPendingInbound" must be an integer of at least 1/,
      ],
      [{ connections: { inboundPerHostPerSecond: 2.5 } }, /"connections.inboundPerHostPerSecond" must be an integer/],
      [
        { connections: { inboundThreshold: 5 } },
        /"connections.inboundThreshold" is not a setting \(known: maxConnections,/,
      ],
      [[], /must be an object/],
    ]
    for (const [data, message] of bad) assert.throws(() => readConfig(data, 'config.json'), message)
  })

  it('accepts loopback API addresses only', () => {
    assert.deepEqual(parseApiAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
    assert.deepEqual(parseApiAddress('[::1]:5011'), { host: '::1', port: 5011 })
    assert.throws(() => parseApiAddress('192.168.1.2:5011'), /loopback/)
    assert.throws(() => parseApiAddress('127.0.0.1:70000'), /loopback/)
  })

  it('takes a gateway address on any host, off by default', () => {
    assert.equal(DEFAULT_CONFIG.gateway, null)
    assert.equal(readConfig({ gateway: '0.0.0.0:8081' }).gateway, '0.0.0.0:8081')
    assert.equal(readConfig({ gateway: null }).gateway, null)
    assert.deepEqual(parseGatewayAddress('/ip4/0.0.0.0/tcp/8081'), { host: '0.0.0.0', port: 8081 })
    assert.deepEqual(parseGatewayAddress('[::]:8081'), { host: '::', port: 8081 })
    assert.throws(
      () => readConfig({ gateway: 'somewhere' }),
      /"gateway" gateway address "somewhere" must be a host and port/,
    )
    assert.throws(() => readConfig({ gateway: 8081 }), /"gateway" must be a non-empty string/)
  })

  it('takes the API address as host:port or as a multiaddr, as Kubo users write it', () => {
    assert.deepEqual(parseApiAddress('/ip4/127.0.0.1/tcp/5011'), { host: '127.0.0.1', port: 5011 })
    assert.deepEqual(parseApiAddress('/ip6/::1/tcp/5011'), { host: '::1', port: 5011 })
    assert.deepEqual(parseApiAddress('/dns4/localhost/tcp/5011/http'), { host: 'localhost', port: 5011 })
    assert.throws(() => parseApiAddress('/ip4/10.0.0.1/tcp/5011'), /loopback/)
    assert.throws(() => parseApiAddress('/ip4/127.0.0.1/udp/5011'), /loopback host and port/)
    assert.equal(readConfig({ api: '/ip4/127.0.0.1/tcp/5012' }).api, '/ip4/127.0.0.1/tcp/5012')
    assert.equal(apiUrl('/ip4/127.0.0.1/tcp/5011'), 'http://127.0.0.1:5011')
    assert.equal(apiUrl('/ip6/::1/tcp/5011/http'), 'http://[::1]:5011')
    assert.equal(apiUrl('127.0.0.1:5011'), 'http://127.0.0.1:5011')
    assert.equal(apiUrl('http://127.0.0.1:5011/'), 'http://127.0.0.1:5011')
    assert.equal(apiUrl('nonsense'), undefined)
  })
})

describe('API wire encoding (DAG-JSON)', () => {
  it('round-trips links and bytes, and drops undefined fields', () => {
    const cid = CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    const value = { link: cid, bytes: new Uint8Array([1, 2, 3]), list: [1, 'two', null], gone: undefined }
    const text = encodeWire(value)
    assert.equal(text.includes('gone'), false)
    const back = decodeWire(text) as typeof value
    assert.ok(CID.asCID(back.link)?.equals(cid))
    assert.deepEqual(back.bytes, new Uint8Array([1, 2, 3]))
    assert.deepEqual(back.list, [1, 'two', null])
  })

  it('refuses text that is not DAG-JSON with a bad-request error', () => {
    assert.throws(() => decodeWire('{"a": '), { name: 'ApiError', code: 'bad-request' })
    assert.throws(() => decodeWire('{"/": "not a cid"}'), { name: 'ApiError', code: 'bad-request' })
  })
})
