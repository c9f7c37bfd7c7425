// Bad input through a real daemon's HTTP API: each request must be refused with a 4xx and a
// message that says what was wrong (not an internal error), and must change nothing the API can
// see (stores and their heads, pins, keys).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { cli, DaemonProcess, type Scratch } from '../cli-helpers.ts'
import { type FaultResult, result } from './report.ts'

interface BadRequest {
  readonly what: string
  readonly method: string
  /** A JSON value, or a raw body sent as it is. */
  readonly body: unknown
  readonly raw?: boolean
  readonly auth?: string | false
}

const nested = (depth: number): unknown => (depth === 0 ? 1 : { d: nested(depth - 1) })
const absent = 'bafkreic5r4fajt3a2knj5d5bpcx6dnjtbk5nqtwqgbc4ue64dsems3xooq'

const BAD: readonly BadRequest[] = [
  { what: 'a body that is not JSON', method: 'put', body: '{"store": "demo", "key":', raw: true },
  { what: 'a put without a value', method: 'put', body: { store: 'demo', key: 'k' } },
  { what: 'a value nested 130 deep', method: 'put', body: { store: 'demo', key: 'k', value: nested(130) } },
  { what: 'a key with a lone surrogate', method: 'put', body: { store: 'demo', key: 'sur\ud800', value: 1 } },
  { what: 'a key over 1 KiB', method: 'put', body: { store: 'demo', key: 'k'.repeat(1025), value: 1 } },
  {
    what: 'a JSON value over the size limit',
    method: 'put',
    body: { store: 'demo', key: 'k', value: 'x'.repeat(200_000) },
  },
  {
    what: 'a value linking to a block nobody holds',
    method: 'put',
    body: { store: 'demo', key: 'k', value: { '/': absent } },
  },
  { what: 'a put to a store that does not exist', method: 'put', body: { store: 'nope', key: 'k', value: 1 } },
  { what: 'a bad store name', method: 'storeCreate', body: { name: 'bad name/../x' } },
  { what: 'a store id that is not one', method: 'storeFollow', body: { id: 'k51-not-an-id' } },
  { what: 'gc keeping 0 commits', method: 'gc', body: { keepLast: 0 } },
  { what: 'a pin of something that is not a CID', method: 'pinAdd', body: { target: 'bafy-not-a-cid' } },
  { what: 'a read at a version that is not one', method: 'get', body: { store: 'demo', key: 'welcome', at: 'zzz' } },
  { what: 'a wrong API token', method: 'put', body: { store: 'demo', key: 'k', value: 1 }, auth: 'wrong' },
  { what: 'no API token', method: 'storeCreate', body: { name: 'x' }, auth: false },
  { what: 'an unknown method', method: 'frobnicate', body: {} },
  { what: 'peers to allow that are not peer ids', method: 'storeAllow', body: { store: 'demo', peers: ['nope'] } },
]

export async function badInput(scratch: Scratch): Promise<FaultResult> {
  const repo = await scratch.dir('dagsync-badinput-')
  const init = await cli(scratch, repo, ['init'])
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  const daemon = await DaemonProcess.start(scratch, repo)
  const api = (await daemon.ready).api
  const token = (await readFile(join(repo, 'api-token'), 'utf8')).trim()
  const send = async (method: string, body: unknown, raw = false, auth: string | false = token) => {
    const response = await fetch(`${api}/api/v1/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth === false ? {} : { authorization: `Bearer ${auth}` }) },
      body: raw ? (body as string) : JSON.stringify(body),
    })
    return { status: response.status, text: await response.text() }
  }
  const state = async () =>
    JSON.stringify(
      await Promise.all(['storeList', 'pinList'].map((m) => send(m, {}))).then((r) => r.map((x) => x.text)),
    ) + (await send('keys', { store: 'demo' })).text

  const problems: string[] = []
  let refused = 0
  for (const bad of BAD) {
    const before = await state()
    const answer = await send(bad.method, bad.body, bad.raw === true, bad.auth ?? token)
    const after = await state()
    const clear =
      answer.status >= 400 && answer.status < 500 && !/internal/i.test(answer.text) && answer.text.length > 20
    if (!clear) problems.push(`${bad.what}: answered ${answer.status} ${answer.text.slice(0, 120)}`)
    else if (after !== before) problems.push(`${bad.what}: refused, but the repo changed`)
    else refused++
  }
  await daemon.stop()
  return result('bad input to a daemon’s HTTP API', { rounds: 1, badInputs: BAD.length, refused, problems })
}
