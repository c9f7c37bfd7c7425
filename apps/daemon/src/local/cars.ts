// CAR files: exporting a DAG (or the part of it newer than another root) and importing one.
import { readBlock } from '@dagsync/store'
import { ApiError, type CarImportResult, type OnProgress } from '../api.ts'
import { exportCar, importCar } from '../car.ts'
import type { LocalContext } from './context.ts'
import { rootOf } from './refs.ts'

export async function carExport(
  ctx: LocalContext,
  { root, since }: { root: string; since?: string },
): Promise<AsyncIterable<Uint8Array>> {
  const rootCid = await rootOf(ctx, root)
  const sinceCid = since === undefined ? undefined : await rootOf(ctx, since)
  const blockstore = ctx.repo.storage.blockstore
  if ((await readBlock(blockstore, rootCid)) === undefined)
    throw new ApiError('not-found', `block ${rootCid} is not in this repo`)
  return exportCar(blockstore, rootCid, sinceCid)
}

/** Imports a CAR under the gc lock (shared): its blocks are written before the pin that keeps them. */
export function carImport(
  ctx: LocalContext,
  { pin = true }: { pin?: boolean },
  car: AsyncIterable<Uint8Array>,
  onProgress?: OnProgress,
): Promise<CarImportResult> {
  const storage = ctx.repo.storage
  return storage.gcLock.shared(() =>
    importCar(storage, car, { pin, ...(onProgress === undefined ? {} : { onProgress }) }),
  )
}
