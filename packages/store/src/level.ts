/**
 * @packageDocumentation
 *
 * Storage in one LevelDB database on disk (Node only): see `LevelStorage`. LevelDB also holds a
 * lock: a second process cannot open the same database.
 */
import { ClassicLevel } from 'classic-level'
import { StorageLockedError } from './errors.ts'
import { LevelStorage } from './level-storage.ts'

export { LevelStorage } from './level-storage.ts'

type Bytes = Uint8Array

export interface LevelStorageOptions {
  /**
   * Bytes LevelDB gathers in memory before writing a sorted file (it may hold two such buffers).
   * Blocks are keyed by hash, so every file overlaps every other: fewer, larger files mean less
   * compaction, which here is most of a write's cost. @default 16 MiB (LevelDB's own is 4 MiB)
   */
  writeBufferSize?: number
}

/** Opens (creating if needed) a LevelDB storage at `path`. Fails with StorageLockedError if another process has it open. */
export async function openLevelStorage(path: string, options: LevelStorageOptions = {}): Promise<LevelStorage> {
  const db = new ClassicLevel<Bytes, Bytes>(path, {
    keyEncoding: 'view',
    valueEncoding: 'view',
    writeBufferSize: options.writeBufferSize ?? 16 * 1024 * 1024,
  })
  try {
    await db.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StorageLockedError(`storage at ${path} is locked: another process has it open`, { cause: err })
    }
    throw err
  }
  const storage = new LevelStorage(db)
  await storage.datastore.open()
  return storage
}
