// What a repo's database says about its stores, read the way the manifest check needs it: which
// stores it writes and follows, their names, and where each head is. Reading a head goes as far
// as decoding its commit, so a head that points at a missing or damaged block is told apart
// from one that is simply gone.
import { followedStores, storeKeyIds } from '@dagsync/peer/local'
import { decodeCommit, readBlock, type Storage } from '@dagsync/store'
import type { HeadState, RepoState, StoreRole } from './manifest.ts'

export async function readRepoState(storage: Storage, names: ReadonlyMap<string, string>): Promise<RepoState> {
  const roles = new Map<string, StoreRole>()
  for await (const id of storeKeyIds(storage.datastore)) roles.set(id, 'writer')
  for await (const { id, sparse } of followedStores(storage.datastore))
    if (!roles.has(id)) roles.set(id, sparse ? 'sparse' : 'replica')
  const heads = new Map<string, HeadState>()
  // A sparse replica keeps its head in memory, not in storage.
  for (const [id, role] of roles) if (role !== 'sparse') heads.set(id, await headSeq(storage, id))
  return { roles, names, heads }
}

async function headSeq(storage: Storage, id: string): Promise<HeadState> {
  try {
    const cid = await storage.head(id)
    if (cid === undefined) return 'missing'
    const bytes = await readBlock(storage.blockstore, cid)
    if (bytes === undefined) return { unreadable: `its commit ${cid} is missing` }
    return decodeCommit(cid, bytes, true).seq
  } catch (err) {
    return { unreadable: (err as Error).message }
  }
}
