import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { openStore } from '../src/index.ts'
import { openLevelStorage } from '../src/level.ts'
import { crashRounds } from './faults/crash-rounds.ts'

const fixtures = new URL('./fixtures/', import.meta.url).pathname
const dirs: string[] = []
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))))

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dagsync-level-'))
  dirs.push(dir)
  return dir
}

describe('LevelDB storage', () => {
  it('keeps every commit across close and reopen', async () => {
    const path = await scratch()
    let storage = await openLevelStorage(path)
    let db = await openStore({ storage, name: 'notes' })
    for (let i = 0; i < 50; i++) await db.assoc(`n${i}`, { i, text: 'y'.repeat(i * 10) })
    await db.bassoc(
      'file',
      new Uint8Array(2_000_000).map((_, i) => i & 0xff),
    )
    const head = db.head!
    await db.close()
    await storage.close()

    storage = await openLevelStorage(path)
    db = await openStore({ storage, name: 'notes', verify: 'full' })
    assert.ok(db.head?.cid.equals(head.cid))
    assert.deepEqual(await db.get('n49'), { i: 49, text: 'y'.repeat(490) })
    assert.equal((await (await db.bget('file'))!.bytes())[1_999_999], 1_999_999 & 0xff)
    assert.equal(await (await db.at(10)).get('n10'), undefined)
    await storage.close()
  })

  it('is locked against a second process', async () => {
    const path = await scratch()
    const storage = await openLevelStorage(path)
    const { stdout } = await promisify(execFile)(process.execPath, [join(fixtures, 'open-storage.ts'), path])
    assert.match(stdout, /^StorageLockedError: storage at .* is locked/)
    await storage.close()
    const again = await promisify(execFile)(process.execPath, [join(fixtures, 'open-storage.ts'), path])
    assert.equal(again.stdout, 'opened\n')
  })

  it('makes transactions that arrive together durable in one synced write', async () => {
    const storage = await openLevelStorage(await scratch())
    let writes = 0
    const commit = storage.commit.bind(storage)
    storage.commit = async (blocks, heads) => {
      writes++
      return commit(blocks, heads)
    }
    const db = await openStore({ storage })
    await Promise.all(Array.from({ length: 200 }, (_, i) => db.assoc(`k${i}`, i)))
    assert.equal(db.head?.seq, 200, 'still one commit per transaction')
    assert.ok(writes <= 20, `${writes} synced writes for 200 commits`)
    await storage.close()
  })
})

describe('crash safety', () => {
  it('reopens at the last acknowledged commit, with every block, after SIGKILL at each crash point', async () => {
    const report = await crashRounds(await scratch(), 5)
    assert.deepEqual(report.lost, [], 'no acknowledged commit lost')
    assert.deepEqual(report.broken, [], 'every reopen is at or past the last acknowledged commit, whole')
    assert.ok(report.acked >= 50, `${report.acked} acknowledged commits checked`)
  })
})
