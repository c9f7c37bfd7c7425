// Remote pinning through the IPFS Pinning Service API, with @ipfs-shipyard/pinning-service-client.
// This node's addresses go to the service as `origins`; the service answers with `delegates`,
// its own nodes, which this node dials so they can fetch the blocks from it directly.
import type { DagsyncNode } from '@dagsync/peer'
import {
  Configuration,
  type PinStatus,
  RemotePinningServiceClient,
  Status,
} from '@ipfs-shipyard/pinning-service-client'
import type { CID } from 'multiformats/cid'
import { ApiError, type OnProgress, type RemotePin, type RemoteService } from './api.ts'

const STATUSES = new Set<string>(Object.values(Status))

function remotePin(status: PinStatus): RemotePin {
  return {
    requestid: status.requestid,
    status: status.status as RemotePin['status'],
    cid: status.pin.cid,
    ...(status.pin.name === undefined ? {} : { name: status.pin.name }),
    created: status.created.toISOString(),
    delegates: status.delegates,
  }
}

function isResponse(value: unknown): value is Response {
  return (
    typeof (value as Response | null)?.status === 'number' && typeof (value as Response | null)?.json === 'function'
  )
}

export class RemotePinning {
  readonly #client: RemotePinningServiceClient
  readonly #url: string

  constructor({ url, token }: RemoteService) {
    try {
      new URL(url)
    } catch {
      throw new ApiError('bad-request', `"${url}" is not a pinning service URL`)
    }
    this.#url = url
    this.#client = new RemotePinningServiceClient(new Configuration({ endpointUrl: url, accessToken: token }))
  }

  /** Runs a call, turning the service's failures into errors that say what went wrong. */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      // The client throws the failed Response. Not `instanceof Response`: @hono/node-server
      // replaces the global Response class, so fetch's responses are not instances of it.
      if (isResponse(err)) {
        const body = (await err.json().catch(() => ({}))) as { error?: { reason?: string; details?: string } }
        const reason = [body.error?.reason, body.error?.details].filter(Boolean).join(': ') || err.statusText
        const code =
          err.status === 401 || err.status === 403 ? 'unauthorized' : err.status === 404 ? 'not-found' : 'internal'
        throw new ApiError(code, `the pinning service at ${this.#url} refused to ${what}: ${err.status} ${reason}`)
      }
      throw new ApiError(
        'unavailable',
        `could not reach the pinning service at ${this.#url}: ${(err as Error).message}`,
      )
    }
  }

  /**
   * Asks the service to pin `cid`, dials its delegates, and (unless `background`) waits until
   * the pin is `pinned` or `failed`, reporting the status as progress.
   */
  async add(
    node: DagsyncNode,
    cid: CID,
    options: { name?: string; background?: boolean; timeoutMs?: number },
    onProgress?: OnProgress,
    onBadDelegate?: (delegate: string, err: unknown) => void,
  ): Promise<RemotePin> {
    const origins = node.addresses.filter((address) => address.includes('/p2p/'))
    let status = await this.#call('add the pin', () =>
      this.#client.pinsPost({
        pin: { cid: cid.toString(), origins, ...(options.name === undefined ? {} : { name: options.name }) },
      }),
    )
    // Best effort, as the spec says: a delegate that cannot be dialled does not fail the pin, but
    // one that is not even an address is reported.
    for (const delegate of status.delegates) {
      if (delegate.includes('/p2p/')) {
        try {
          node.connect(delegate)
        } catch (err) {
          onBadDelegate?.(delegate, err)
        }
      }
    }
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000)
    while (options.background !== true && (status.status === Status.Queued || status.status === Status.Pinning)) {
      onProgress?.({ blocks: 0, bytes: 0, phase: status.status })
      if (Date.now() > deadline)
        throw new ApiError(
          'unavailable',
          `the pin of ${cid} is still ${status.status} (request ${status.requestid}); check later with \`pin remote ls\``,
        )
      await new Promise((resolve) => setTimeout(resolve, 500))
      const requestid = status.requestid
      status = await this.#call('report the pin', () => this.#client.pinsRequestidGet({ requestid }))
    }
    if (status.status === Status.Failed)
      throw new ApiError('internal', `the pinning service failed to pin ${cid} (request ${status.requestid})`)
    return remotePin(status)
  }

  async list(filter: { status?: readonly string[]; cid?: string; name?: string }): Promise<RemotePin[]> {
    const statuses = filter.status ?? ['queued', 'pinning', 'pinned', 'failed']
    for (const s of statuses)
      if (!STATUSES.has(s))
        throw new ApiError('bad-request', `"${s}" is not a pin status (queued, pinning, pinned, failed)`)
    const results = await this.#call('list pins', () =>
      this.#client.pinsGet({
        status: statuses as Status[],
        limit: 1000,
        ...(filter.cid === undefined ? {} : { cid: [filter.cid] }),
        ...(filter.name === undefined ? {} : { name: filter.name }),
      }),
    )
    return results.results.map(remotePin)
  }

  /** Removes the pin with this request id, or every pin of this CID. */
  async remove(target: string): Promise<{ removed: string[] }> {
    const pins = (await this.list({})).filter((pin) => pin.requestid === target || pin.cid === target)
    if (pins.length === 0) throw new ApiError('not-found', `the pinning service has no pin ${target}`)
    for (const pin of pins)
      await this.#call('remove the pin', () => this.#client.pinsRequestidDelete({ requestid: pin.requestid }))
    return { removed: pins.map((pin) => pin.requestid) }
  }
}
