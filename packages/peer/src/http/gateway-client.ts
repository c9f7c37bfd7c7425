// A reader's side of the trustless gateway: a store's signed IPNS record and single raw blocks,
// over plain HTTP from the gateways a follower was given. Nothing a gateway says is trusted: a
// record is checked as a gossiped announcement is (readAnnouncement), a block against its CID,
// and each response is cut off at the size an honest one has.
import { MAX_BLOCK_BYTES, verifyBlock } from '@dagsync/tree'
import { CarBlockIterator } from '@ipld/car'
import type { PublicKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { type Announcement, MAX_ANNOUNCEMENT_BYTES, readAnnouncement } from '../announcement.ts'

/** No gateway gave a usable answer; `message` says what each one did. */
export class GatewayFetchError extends Error {
  override readonly name = 'GatewayFetchError'
}

/** The body of `response`, refused once it passes `maxBytes` (whatever Content-Length says): read as it streams. */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let length = 0
  if (response.body !== null) {
    for await (const chunk of response.body) {
      length += chunk.length
      if (length > maxBytes) {
        await response.body.cancel().catch(() => {})
        throw new GatewayFetchError(`it sent more than ${maxBytes} bytes`)
      }
      chunks.push(chunk)
    }
  }
  const out = new Uint8Array(length)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

export class GatewayClient {
  /** Gateway base URLs, e.g. `https://gateway.example.com` (tried in this order). */
  readonly gateways: readonly string[]

  constructor(gateways: readonly string[]) {
    this.gateways = gateways.map((url) => url.replace(/\/+$/, ''))
  }

  async #ask<T>(
    path: string,
    accept: string,
    signal: AbortSignal,
    take: (response: Response) => Promise<T>,
  ): Promise<T> {
    const failures: string[] = []
    for (const gateway of this.gateways) {
      try {
        const response = await fetch(`${gateway}${path}`, { headers: { accept }, signal })
        if (!response.ok) {
          await response.body?.cancel().catch(() => {})
          throw new GatewayFetchError(`HTTP ${response.status}`)
        }
        return await take(response)
      } catch (err) {
        if (signal.aborted) throw err
        failures.push(`${gateway}: ${(err as Error).message}`)
      }
    }
    throw new GatewayFetchError(`no gateway answered ${path}: ${failures.join('; ')}`)
  }

  /**
   * The newest valid announcement the gateways hold for the store of `key` (id `id`): every
   * gateway is asked, and each record is checked for size, signature, expiry and value exactly
   * as a gossiped one is, so a stale or forged one loses to a good one.
   */
  async announcement(key: PublicKey, id: string, signal: AbortSignal): Promise<Announcement> {
    const path = `/ipns/${id}?format=ipns-record`
    const answers = await Promise.allSettled(
      this.gateways.map((gateway) =>
        new GatewayClient([gateway]).#ask(path, 'application/vnd.ipfs.ipns-record', signal, async (response) =>
          readAnnouncement(key, await readCapped(response, MAX_ANNOUNCEMENT_BYTES)),
        ),
      ),
    )
    let newest: Announcement | undefined
    const failures: string[] = []
    for (const answer of answers) {
      if (answer.status === 'rejected') failures.push((answer.reason as Error).message)
      else if (newest === undefined || answer.value.seq > newest.seq) newest = answer.value
    }
    if (newest === undefined) throw new GatewayFetchError(failures.join('; '))
    return newest
  }

  /** One block, its bytes hashed against `cid` (a gateway that sends others is skipped). */
  async block(cid: CID, signal: AbortSignal): Promise<Uint8Array> {
    return this.#ask(`/ipfs/${cid}?format=raw`, 'application/vnd.ipld.raw', signal, async (response) => {
      const bytes = await readCapped(response, MAX_BLOCK_BYTES)
      verifyBlock(cid, bytes)
      return bytes
    })
  }

  /** The blocks of `root`'s DAG as the first gateway that answers streams them in a CAR, unchecked. */
  async car(root: CID, signal: AbortSignal): Promise<AsyncIterable<{ cid: CID; bytes: Uint8Array }>> {
    return this.#ask(`/ipfs/${root}?format=car&dag-scope=all`, 'application/vnd.ipld.car', signal, async (response) => {
      if (response.body === null) throw new GatewayFetchError('an empty CAR')
      return CarBlockIterator.fromIterable(response.body)
    })
  }
}
