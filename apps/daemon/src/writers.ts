// Who may write each store this repo writes, besides this node: a list kept in the repo's
// database (changed with `dagsync store allow|deny`, at once) and the one in config.json's
// `writers` (changed there, then a restart). A peer is allowed if either list has it.
import { peerIdFromString } from '@libp2p/peer-id'
import type { Datastore } from 'interface-datastore'
import { Key } from 'interface-datastore'
import { type AllowMode, ApiError, type WritersInfo } from './api.ts'

const WRITERS = '/dagsync/writers'

/** How a change is applied to a store's stored list. */
export type WritersChange =
  | { readonly allow: readonly string[]; readonly mode: AllowMode }
  | { readonly deny: readonly string[] }

export class WriterLists {
  readonly #datastore: Pick<Datastore, 'get' | 'put'>
  readonly #config: Readonly<Record<string, readonly string[]>>
  /** Changes run one after another: two `allow`s at once must both count (each reads, then writes, the list). */
  #queue: Promise<unknown> = Promise.resolve()

  /** `config` is config.json's `writers`: peer ids by store name or id. */
  constructor(datastore: Pick<Datastore, 'get' | 'put'>, config: Readonly<Record<string, readonly string[]>>) {
    this.#datastore = datastore
    this.#config = config
  }

  /** The peers config.json allows to write store `id`, known here by `names`. */
  configured(id: string, names: readonly string[]): string[] {
    return [...new Set([id, ...names].flatMap((ref) => this.#config[ref] ?? []))]
  }

  /** Both lists of store `id`. */
  async of(id: string, names: readonly string[]): Promise<WritersInfo> {
    const configured = this.configured(id, names)
    return { writers: [...new Set([...(await this.#stored(id)), ...configured])], configured }
  }

  /** Changes the stored list of store `id` and returns both lists as they are now. */
  change(id: string, names: readonly string[], change: WritersChange): Promise<WritersInfo> {
    const peers = 'allow' in change ? change.allow : change.deny
    checkPeerIds(peers)
    const run = async () => {
      const configured = this.configured(id, names)
      // Replacing does not read the list: it is how a damaged one is set again.
      const replacing = 'allow' in change && change.mode === 'replace'
      let stored = replacing ? [] : await this.#stored(id)
      if ('deny' in change) {
        // Refused before anything changes: the peer would still be allowed, and the user told it is not.
        const kept = change.deny.filter((peer) => configured.includes(peer))
        if (kept.length > 0)
          throw new ApiError(
            'conflict',
            `${kept.join(', ')} ${kept.length === 1 ? 'is' : 'are'} allowed by config.json ("writers"): remove ${kept.length === 1 ? 'it' : 'them'} there and restart the daemon`,
          )
        stored = stored.filter((peer) => !change.deny.includes(peer))
      } else {
        stored = [...new Set([...stored, ...change.allow])]
      }
      await this.#datastore.put(new Key(`${WRITERS}/${id}`), new TextEncoder().encode(JSON.stringify(stored)))
      return this.of(id, names)
    }
    const result = this.#queue.then(run, run)
    this.#queue = result.catch(() => {})
    return result
  }

  async #stored(id: string): Promise<string[]> {
    let bytes: Uint8Array
    try {
      bytes = await this.#datastore.get(new Key(`${WRITERS}/${id}`))
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return [] // none allowed yet
      throw err
    }
    // A damaged list must not read as "nobody else may write": say so.
    let writers: unknown
    try {
      writers = JSON.parse(new TextDecoder().decode(bytes))
    } catch {
      writers = undefined
    }
    if (!Array.isArray(writers) || !writers.every((w) => typeof w === 'string'))
      throw new ApiError(
        'internal',
        `the list of peers allowed to write store ${id} is damaged in the repo's database: set it again with \`dagsync store allow ${id} --replace <peer id>...\``,
      )
    return writers
  }
}

/** Refuses the whole list before anything changes if one entry is not a peer id. */
function checkPeerIds(peers: readonly string[]): void {
  if (!Array.isArray(peers)) throw new ApiError('bad-request', '"peers" must be a list of peer ids')
  for (const peer of peers) {
    try {
      peerIdFromString(peer)
    } catch {
      throw new ApiError('bad-request', `"${String(peer)}" is not a peer id`)
    }
  }
}
