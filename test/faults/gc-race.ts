// gc racing writes on a real daemon, as issue 12 found it: a loop of gc (keeping only the last
// commit) beside loops of puts, of binary writes of 40 KB to 1.5 MB, and of one key set back and
// forth between two large values. Every acknowledged write must read back, and pin verify pass.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { HttpClient } from '@dagsync/daemon/client'
import { cli, DaemonProcess, type Scratch } from '../cli-helpers.ts'
import { type FaultResult, result } from './report.ts'

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of stream) parts.push(part)
  return Buffer.concat(parts)
}

const binary = (i: number) => new Uint8Array(40_000 + ((i * 377_777) % 1_460_000)).fill(i & 0xff)
const big = (tag: string) => ({ tag, pad: tag.repeat(500) })

export async function gcRace(scratch: Scratch, writes: number): Promise<FaultResult> {
  const repo = await scratch.dir('dagsync-gcrace-')
  const init = await cli(scratch, repo, ['init', '--no-demo'])
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  const daemon = await DaemonProcess.start(scratch, repo)
  const ready = await daemon.ready
  const token = (await readFile(join(repo, 'api-token'), 'utf8')).trim()
  const api = new HttpClient({ url: ready.api, token })
  const { id: store } = await api.storeCreate({ name: 'race' })

  let done = false
  let gcs = 0
  const problems: string[] = []
  const plain = new Map<string, number>()
  const bytes = new Map<string, number>()
  let flips = 0
  const collector = async () => {
    while (!done) {
      try {
        await api.gc({ keepLast: 1 })
        gcs++
      } catch (err) {
        problems.push(`gc failed: ${(err as Error).message}`)
        return
      }
    }
  }
  const puts = async () => {
    for (let i = 0; i < writes; i++) {
      await api.put({ store, key: `p${i}`, value: { i, pad: 'x'.repeat(i % 3 === 0 ? 400 : 10) } })
      plain.set(`p${i}`, i)
    }
  }
  const binaries = async () => {
    for (let i = 0; i < Math.ceil(writes / 10); i++) {
      await api.putBytes({ store, key: `b${i}` }, once(binary(i)))
      bytes.set(`b${i}`, i)
    }
  }
  const backAndForth = async () => {
    for (let i = 0; i < Math.ceil(writes / 4); i++) {
      await api.put({ store, key: 'doc', value: big(i % 2 === 0 ? 'A' : 'B') })
      flips = i + 1
    }
  }
  await Promise.all([
    collector(),
    (async () => {
      await Promise.all([puts(), binaries(), backAndForth()])
      done = true
    })(),
  ])

  let lost = 0
  for (const [key, i] of plain) {
    const got = await api.get({ store, key }).catch(() => undefined)
    if (!isDeepStrictEqual(got?.value, { i, pad: 'x'.repeat(i % 3 === 0 ? 400 : 10) })) lost++
  }
  for (const [key, i] of bytes) {
    const got = await api.getBytes({ store, key }).then(readAll, () => undefined)
    if (got === undefined || !got.equals(binary(i))) lost++
  }
  const doc = await api.get({ store, key: 'doc' }).catch(() => undefined)
  if (!isDeepStrictEqual(doc?.value, big((flips - 1) % 2 === 0 ? 'A' : 'B'))) lost++
  const verify = await api.pinVerify()
  if (!verify.ok) problems.push('pin verify found blocks missing or corrupt')
  if (gcs < 2) problems.push(`only ${gcs} gc runs overlapped the writes`)
  await daemon.stop()
  return result(`gc racing writes on a daemon (${gcs} gc runs)`, {
    rounds: gcs,
    acked: plain.size + bytes.size + flips,
    lost,
    problems,
  })
}
