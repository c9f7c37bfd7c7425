// CAR (v1) export and import with @ipld/car. An export holds a whole DAG (a commit with its tree
// and values, not its history) or only the blocks one version adds to another; an import checks
// every block against its CID and pins the roots only once the whole DAG is here.
import { blockKey, type Commit, decodeCommit, readBlock, type Storage, walkDag } from '@dagsync/store'
import { type Block, MerkleSearchTree, verifyBlock } from '@dagsync/tree'
import { CarBlockIterator, CarWriter } from '@ipld/car'
import type { Blockstore } from 'interface-blockstore'
import type { CID } from 'multiformats/cid'
import { ApiError, type CarImportResult, type OnProgress } from './api.ts'
import { toApiError } from './convert.ts'

function commitOf(cid: CID, bytes: Uint8Array): Commit | undefined {
  if (cid.code !== 0x71) return undefined
  try {
    return decodeCommit(cid, bytes)
  } catch {
    return undefined
  }
}

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
  const a = commitOf(since, sinceBytes)
  const b = rootBytes === undefined ? undefined : commitOf(root, rootBytes)
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
 * Reads a CAR, checks each block against its CID and writes it, 256 at a time. With `pin`, the
 * roots are pinned once every block they reach is in the repo. A corrupt CAR stops the import:
 * nothing is pinned, and the blocks written before it are unreferenced (the next gc frees them).
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
  let blocks = 0
  let bytes = 0
  let batch: Block[] = []
  const iterator = reader[Symbol.asyncIterator]()
  for (;;) {
    let next: IteratorResult<Block>
    try {
      next = await iterator.next()
    } catch (err) {
      throw new ApiError(
        'bad-request',
        `the CAR is truncated or malformed after ${blocks} blocks: ${(err as Error).message}; nothing was pinned`,
      )
    }
    if (next.done === true) break
    const { cid, bytes: data } = next.value
    try {
      verifyBlock(cid, data)
    } catch {
      throw new ApiError(
        'bad-request',
        `block ${blocks + 1} of the CAR (${cid}) does not match its CID: the CAR is corrupt; nothing was pinned`,
      )
    }
    batch.push({ cid, bytes: data })
    blocks++
    bytes += data.length
    if (batch.length >= 256) {
      await storage.commit(batch, new Map())
      batch = []
      options.onProgress?.({ blocks, bytes, phase: 'importing' })
    }
  }
  if (batch.length > 0) await storage.commit(batch, new Map())
  options.onProgress?.({ blocks, bytes, phase: 'importing' })
  if (options.pin) {
    const missing: CID[] = []
    for await (const _ of walkDag(
      (cid) => readBlock(storage.blockstore, cid),
      roots,
      (cid, block) => {
        if (block === undefined) missing.push(cid)
        return block !== undefined
      },
    )) {
      // checking that the roots' DAGs are whole
    }
    if (missing.length > 0) {
      throw new ApiError(
        'bad-request',
        `the CAR's DAG is incomplete here: ${missing.length} blocks are missing (first: ${missing[0]}); ` +
          'import the CAR it was exported since first, or import with --no-pin. Nothing was pinned',
      )
    }
    for (const root of roots) await storage.pin({ cid: root, name: 'car import', time: Date.now() })
  }
  return { roots, blocks, bytes, pinned: options.pin }
}
