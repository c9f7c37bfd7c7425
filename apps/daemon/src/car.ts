// CAR (v1) export and import with @ipld/car. An export holds a whole DAG (a commit with its tree
// and values, not its history) or only the blocks one version adds to another; an import checks
// every block against its CID and pins the roots only once the whole DAG is here.
import { asCommit, blockKey, dagLinks, readBlock, type Storage, WholeDagWriter, walkDag } from '@dagsync/store'
import { type Block, MerkleSearchTree, verifyBlock } from '@dagsync/tree'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { ApiError, type CarImportResult, type OnProgress } from './api.ts'
import { toApiError } from './convert.ts'
import { plural } from './plural.ts'

/** The blocks of `root`'s DAG, or those it adds to `since`'s; a missing block is an error. */
async function* exportedBlocks(blockstore: Blockstore, root: CID, since: CID | undefined): AsyncGenerator<Block> {
  const read = (cid: CID) => readBlock(blockstore, cid)
  const visit = (cid: CID, bytes: Uint8Array | undefined): boolean => {
    if (bytes === undefined) throw new ApiError('not-found', `block ${cid} of the DAG is not in this repo`)
    return true
  }
  if (since === undefined) {
    yield* walkDag(read, [root], visit)
    return
  }
  const rootBytes = await read(root)
  const sinceBytes = await read(since)
  if (sinceBytes === undefined) throw new ApiError('not-found', `block ${since} is not in this repo`)
  const a = asCommit(since, sinceBytes)
  const b = rootBytes === undefined ? undefined : asCommit(root, rootBytes)
  if (a !== undefined && b !== undefined && (a.bits ?? 4) === (b.bits ?? 4)) {
    // Two versions of a store: the tree diff opens only the paths that changed.
    yield { cid: root, bytes: rootBytes as Uint8Array }
    const tree = new MerkleSearchTree(blockstore, { bitsPerLevel: b.bits ?? 4 })
    for await (const block of tree.newBlocks(a.tree, b.tree)) yield { cid: block.cid, bytes: block.bytes }
    return
  }
  // Any two DAGs: everything under `root` that is not under `since`.
  const old = new Set<string>()
  for await (const _ of walkDag(
    read,
    [since],
    (cid, bytes) => visit(cid, bytes) && old.add(blockKey(cid)) !== undefined,
  )) {
    // collecting
  }
  yield* walkDag(read, [root], (cid, bytes) => !old.has(blockKey(cid)) && visit(cid, bytes))
}

/** A CARv1 with `root` as its root, streamed. A failure part way ends the stream with the error. */
export function exportCar(blockstore: Blockstore, root: CID, since?: CID): AsyncIterable<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  let failure: unknown
  const producing = (async () => {
    try {
      for await (const block of exportedBlocks(blockstore, root, since)) await writer.put(block)
    } catch (err) {
      failure = err
    } finally {
      await writer.close()
    }
  })()
  return (async function* () {
    yield* out
    await producing
    if (failure !== undefined) throw toApiError(failure)
  })()
}

/**
 * Reads a CAR and checks each block against its CID. A block is written once every block it
 * links to is in the repo (from this CAR or before it), so a truncated or partial CAR leaves
 * only whole DAGs behind. With `pin`, the roots are pinned once all they reach is here. A
 * corrupt CAR stops the import: nothing is pinned, and the whole DAGs written before it are
 * unreferenced (the next gc frees them). The caller holds the storage's gc lock (shared).
 */
export async function importCar(
  storage: Storage,
  car: AsyncIterable<Uint8Array>,
  options: { pin: boolean; onProgress?: OnProgress },
): Promise<CarImportResult> {
  let reader: CarBlockIterator
  let roots: CID[]
  try {
    reader = await CarBlockIterator.fromIterable(car)
    roots = await reader.getRoots()
  } catch (err) {
    throw new ApiError('bad-request', `not a CAR file: ${(err as Error).message}`)
  }
  const rootKeys = new Set(roots.map(blockKey))
  const writer = new WholeDagWriter(storage)
  let blocks = 0
  let bytes = 0
  const iterator = reader[Symbol.asyncIterator]()
  for (;;) {
    let next: IteratorResult<Block>
    try {
      next = await iterator.next()
    } catch (err) {
      throw new ApiError(
        'bad-request',
        `the CAR is truncated or malformed after ${plural(blocks, 'block')}: ${(err as Error).message}; nothing was pinned`,
      )
    }
    if (next.done === true) break
    const { cid, bytes: data } = next.value
    let links: CID[]
    try {
      verifyBlock(cid, data)
      links = dagLinks(cid, data, rootKeys.has(blockKey(cid)))
    } catch (err) {
      throw new ApiError(
        'bad-request',
        `block ${blocks + 1} of the CAR (${cid}) is corrupt (${(err as Error).message}); nothing was pinned`,
      )
    }
    await writer.add({ cid, bytes: data }, links)
    blocks++
    bytes += data.length
    if (blocks % 256 === 0) options.onProgress?.({ blocks, bytes, phase: 'importing' })
  }
  const incomplete = await writer.finish()
  options.onProgress?.({ blocks, bytes, phase: 'importing' })
  const missingRoots: CID[] = []
  for (const root of roots) if (!(await storage.blockstore.has(root))) missingRoots.push(root)
  if (incomplete.length > 0 || missingRoots.length > 0) {
    const first = incomplete[0] ?? missingRoots[0]
    throw new ApiError(
      'bad-request',
      `the CAR's DAG is incomplete here: ${incomplete.length} of its blocks link to blocks that are neither in it ` +
        `nor in this repo (first: ${first}), so they were not imported; import the CAR it was exported since ` +
        `first. ${writer.written} whole blocks were imported${options.pin ? '; nothing was pinned' : ''}`,
    )
  }
  if (options.pin) for (const root of roots) await storage.pin({ cid: root, name: 'car import', time: Date.now() })
  return { roots, blocks, bytes, pinned: options.pin }
}
