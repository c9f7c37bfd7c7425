// What a node remembers about the stores it follows, so that it follows them again after a
// restart; kept in the storage's datastore, readable without starting a node (the CLI does).
import { type Datastore, Key } from 'interface-datastore'

const FOLLOWING = '/dagsync/following'

export interface FollowRecord {
  readonly id: string
  readonly sparse: boolean
}

/** The stores followed in this datastore. */
export async function* followedStores(datastore: Datastore): AsyncGenerator<FollowRecord> {
  for await (const key of datastore.queryKeys({ prefix: FOLLOWING })) {
    const [, , , id, mode] = key.toString().split('/')
    if (id !== undefined) yield { id, sparse: mode === 'sparse' }
  }
}

export async function recordFollow(datastore: Datastore, { id, sparse }: FollowRecord): Promise<void> {
  await forgetFollow(datastore, id)
  await datastore.put(new Key(`${FOLLOWING}/${id}/${sparse ? 'sparse' : 'full'}`), new Uint8Array(0))
}

export async function forgetFollow(datastore: Datastore, id: string): Promise<void> {
  for (const mode of ['sparse', 'full']) await datastore.delete(new Key(`${FOLLOWING}/${id}/${mode}`))
}
