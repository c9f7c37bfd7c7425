// Staging bytes: a binary value's blocks written to storage ahead of the commit that places
// them, so a bulk write can carry a reference (a `put-ref` op) instead of the bytes.
import { type Block, decodeValidated, prepareByteStream, RAW } from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import type { Storage } from './storage.ts'

export interface StagedBytes {
  /** What a `put-ref` op (or `bassocRef`) places: it writes the same entry `bassoc` of the bytes would. */
  readonly ref: CID
  readonly size: number
}

/** Staged blocks are written in batches of about this many bytes: a large value is never held whole. */
const BATCH_BYTES = 8 * 1024 * 1024

/**
 * Writes bytes as a binary value's blocks (chunked past 1 MiB, streamed), with no commit, and
 * returns the reference that places them. Bytes short enough to be stored inline are not
 * written at all: their reference is an identity CID that carries them.
 *
 * Nothing refers to staged blocks until a commit places them, so a gc that runs in between
 * collects them, and that commit then fails (nothing of it is written): stage them again. The
 * blocks are written under the gc lock, children first, so a gc removes all of them or none.
 */
export function stageBytes(
  storage: Storage,
  bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<StagedBytes> {
  return storage.gcLock.shared(async () => {
    let batch: Block[] = []
    let batchBytes = 0
    let size = 0
    const counted = async function* () {
      for await (const chunk of bytes instanceof Uint8Array ? [bytes] : bytes) {
        size += chunk.length
        yield chunk
      }
    }
    const stored = await prepareByteStream(counted(), async (block) => {
      batch.push(block)
      batchBytes += block.bytes.length
      if (batchBytes >= BATCH_BYTES) {
        await storage.commit(batch, new Map())
        batch = []
        batchBytes = 0
      }
    })
    if (batch.length > 0) await storage.commit(batch, new Map())
    if (stored.kind === 'inline') {
      const content = decodeValidated(stored.bytes) as Uint8Array
      return { ref: CID.createV1(RAW, identity.digest(content)), size }
    }
    return { ref: stored.cid, size }
  })
}
