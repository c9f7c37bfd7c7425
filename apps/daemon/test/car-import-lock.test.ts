// A CAR import holds the gc lock (shared) from its first block to the pin: a collection that
// starts while the CAR is still arriving waits, so it cannot sweep the blocks already written
// before the pin keeps them. The interleaving is forced: the CAR's stream starts the collection
// between its two blocks and goes on only once the collection waits (or has finished).
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { collectGarbage } from '@dagsync/store'
import { CarWriter } from '@ipld/car'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { LocalApi } from '../src/local-api.ts'
import { initRepo, Repo } from '../src/repo.ts'

const dirs: string[] = []
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))))

async function block(value: unknown): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

/** A CAR of `blocks` under `root`, in one piece. */
async function carBytes(root: CID, blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root])
  const parts: Uint8Array[] = []
  const read = (async () => {
    for await (const part of out) parts.push(part)
  })()
  for (const b of blocks) await writer.put(b)
  await writer.close()
  await read
  return Buffer.concat(parts)
}

describe('carImport and gc', () => {
  it('a collection started while a CAR arrives waits for its pin, and keeps every block', async () => {
    const path = await mkdtemp(join(tmpdir(), 'dagsync-car-lock-'))
    dirs.push(path)
    await initRepo(path)
    const repo = await Repo.open(path, { command: 'test' })
    const api = new LocalApi({ repo })
    try {
      // More leaves than the import writes in one batch (256), first: the first batch is written,
      // with nothing yet keeping it, before the root arrives.
      const leaves = await Promise.all(Array.from({ length: 300 }, (_, i) => block({ leaf: i })))
      const leaf = leaves[0]
      const root = await block({ links: leaves.map((l) => l.cid) })
      const car = await carBytes(root.cid, [...leaves, root])
      let phase = ''
      let collection: Promise<unknown> | undefined
      // In small pieces: the collection starts at the first read after the first batch is written.
      async function* stream(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < car.length; at += 64) {
          if (collection === undefined && (await repo.storage.blockstore.has(leaf.cid))) {
            assert.equal(await repo.storage.blockstore.has(root.cid), false, 'the root is not written yet')
            let settled = false
            collection = collectGarbage(repo.storage, {
              onPhase: (p) => {
                phase = p
              },
            }).finally(() => {
              settled = true
            })
            while (phase !== 'waiting' && !settled) await new Promise((resolve) => setImmediate(resolve))
          }
          yield car.subarray(at, at + 64)
        }
      }
      const imported = await api.carImport({ pin: true }, stream())
      assert.equal(imported.blocks, 301)
      assert.notEqual(collection, undefined, 'the collection started during the import')
      const report = (await collection) as { deletedBlocks: number }
      assert.equal(report.deletedBlocks, 0)
      const verify = await api.pinVerify()
      assert.equal(verify.ok, true)
      for (const l of leaves) assert.ok(await repo.storage.blockstore.has(l.cid))
    } finally {
      await api.close()
      await repo.close()
    }
  })
})
