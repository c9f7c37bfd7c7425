// A repo notices when its database loses a store it knew, with real repos and the real CLI and
// daemon: entries deleted from LevelDB (a store's head, its key, its follow record, its name, a
// head that points nowhere), and bits flipped in LevelDB's table files. `pin verify` and
// `status` must exit non-zero and name the store, never report success with a store gone, and a
// store that lost its head must not take writes that would fork its history.
import assert from 'node:assert/strict'
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { openLevelStorage } from '@dagsync/store/level'
import { CID } from 'multiformats/cid'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

/** A store id nobody writes here: followed (offline, so without a head) as a replica. */
const FOLLOWED = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnz0le'

let base: string
let writerId: string
let otherId: string

before(async () => {
  base = await scratch.dir()
  assert.equal((await cli(scratch, base, ['init', '--no-demo'])).code, 0)
  writerId = (await cliJson<{ id: string }>(scratch, base, ['store', 'create', '--name', 'w'])).id
  otherId = (await cliJson<{ id: string }>(scratch, base, ['store', 'create', '--name', 'other'])).id
  for (const [store, key] of [
    ['w', 'a'],
    ['w', 'b'],
    ['other', 'x'],
  ])
    assert.equal((await cli(scratch, base, ['put', store, key, JSON.stringify({ key, pad: 'p'.repeat(300) })])).code, 0)
  await cliJson(scratch, base, ['store', 'follow', FOLLOWED, '--name', 'f'])
  assert.equal((await cliJson<{ ok: boolean }>(scratch, base, ['pin', 'verify'])).ok, true)
})

/** A copy of the base repo, with `damage` done to its database directly (no dagsync process has it open). */
async function damaged(
  damage: (storage: Awaited<ReturnType<typeof openLevelStorage>>) => Promise<void>,
): Promise<string> {
  const repo = await scratch.dir()
  await cp(base, repo, { recursive: true })
  const storage = await openLevelStorage(join(repo, 'data'))
  try {
    await damage(storage)
  } finally {
    await storage.close()
  }
  return repo
}

/** Deletes the datastore entries whose key starts with `prefix`. */
async function deleteEntries(storage: Awaited<ReturnType<typeof openLevelStorage>>, prefix: string): Promise<void> {
  let deleted = 0
  for await (const { key } of storage.datastore.query({ prefix })) {
    await storage.datastore.delete(key)
    deleted++
  }
  assert.ok(deleted > 0, `an entry under ${prefix} was there to delete`)
}

/** `pin verify` and `status` both fail, exit 1, and name the store with the message's words. */
async function assertReported(repo: string, store: RegExp, message: RegExp): Promise<void> {
  for (const args of [['pin', 'verify'], ['status']]) {
    const result = await cli(scratch, repo, args)
    assert.equal(result.code, 1, `dagsync ${args.join(' ')}: ${result.stdout}${result.stderr}`)
    assert.match(result.stderr, /^dagsync: the repo's database lost or cannot read store /m)
    assert.match(result.stderr, store, args.join(' '))
    assert.match(result.stdout, message, args.join(' '))
  }
}

describe('a store the database lost', () => {
  it('is reported when its head is gone, and its writes are refused rather than fork it', async () => {
    const repo = await damaged((storage) => storage.deleteHead(writerId))
    await assertReported(
      repo,
      new RegExp(`store w \\(${writerId}\\)`),
      /store w .* had commit 2 here, but its head is gone/,
    )
    const json = await cli(scratch, repo, ['pin', 'verify', '--json'])
    assert.equal(json.code, 1)
    const result = JSON.parse(json.stdout) as { ok: boolean; problems: { store: string; kind: string }[] }
    assert.equal(result.ok, false)
    assert.deepEqual(
      result.problems.map((p) => [p.store, p.kind]),
      [[writerId, 'head-missing']],
    )
    const write = await cli(scratch, repo, ['put', 'w', 'c', '1'])
    assert.equal(write.code, 1, write.stderr)
    assert.match(write.stderr, /its head is gone from the database: restore the repo from a backup/)
    // The other stores are fine, and the refused write made no commit.
    assert.equal((await cliJson<{ seq: number }>(scratch, repo, ['store', 'status', 'other'])).seq, 1)
    await assertReported(repo, /store w/, /had commit 2 here/)
  })

  it('is reported when its writer key is gone', async () => {
    const repo = await damaged((storage) => deleteEntries(storage, `/dagsync/keys/${writerId}`))
    await assertReported(
      repo,
      /store w /,
      /store w .* written here, is gone from the repo's database with its writer key/,
    )
    // Accepting the loss: the store's entry is removed from the manifest by hand.
    const file = join(repo, 'stores.json')
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { stores: Record<string, unknown> }
    delete manifest.stores[writerId]
    await writeFile(file, JSON.stringify(manifest))
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
  })

  it('is reported when its follow record is gone, and following it again clears it', async () => {
    const repo = await damaged((storage) => deleteEntries(storage, `/dagsync/following/${FOLLOWED}`))
    await assertReported(repo, new RegExp(FOLLOWED), /followed here, is gone .*dagsync store follow/)
    await cliJson(scratch, repo, ['store', 'follow', FOLLOWED])
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
    // Unfollowing on purpose is no loss: the manifest forgets the store first.
    assert.equal((await cli(scratch, repo, ['store', 'unfollow', FOLLOWED])).code, 0)
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
    const manifest = JSON.parse(await readFile(join(repo, 'stores.json'), 'utf8')) as { stores: object }
    assert.ok(!(FOLLOWED in manifest.stores))
  })

  it('is reported when its name is gone, and naming it again clears it', async () => {
    const repo = await damaged((storage) => deleteEntries(storage, '/dagsync/names/other'))
    await assertReported(repo, new RegExp(otherId), /the name "other" of store .* is gone/)
    await cliJson(scratch, repo, ['store', 'name', otherId, 'other'])
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
  })

  it('is reported when its head points at a block that is not there', async () => {
    const nowhere = CID.parse('bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    const repo = await damaged((storage) => storage.commit([], new Map([[otherId, nowhere]])))
    await assertReported(
      repo,
      /store other /,
      new RegExp(`its head cannot be read \\(its commit ${nowhere} is missing\\)`),
    )
  })

  it('is reported when its head fell behind a commit it held', async () => {
    // An older head, as a database that lost its newest entries would have.
    const repo = await scratch.dir()
    await cp(base, repo, { recursive: true })
    const first = (await cli(scratch, repo, ['log', 'w', '--json'])).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { cid: { '/': string }; seq: number })
      .find((c) => c.seq === 1)
    assert.ok(first !== undefined)
    const storage = await openLevelStorage(join(repo, 'data'))
    await storage.commit([], new Map([[writerId, CID.parse(first.cid['/'])]]))
    await storage.close()
    await assertReported(repo, /store w /, /store w .* is at commit 1 here, but it held commit 2/)
  })

  it('does not stop the daemon: it starts, serves the other stores and reports the lost one', async () => {
    const repo = await damaged((storage) => storage.deleteHead(writerId))
    const daemon = await DaemonProcess.start(scratch, repo)
    const ready = await daemon.ready
    assert.deepEqual(
      ready.stores.map((s) => s.names[0]).sort(),
      ['f', 'other'],
      'the damaged store is not listed as if it were empty',
    )
    assert.equal((await cliJson<{ value: { key: string } }>(scratch, repo, ['get', 'other', 'x'])).value.key, 'x')
    // Not served (at seq 0, it would take writes from allowed peers and fork the store).
    const metrics = await (await fetch(`${ready.api}/metrics`)).text()
    assert.match(metrics, new RegExp(`dagsync_store_head_seq\\{store="${otherId}",name="other",role="writer"\\} 1`))
    assert.doesNotMatch(metrics, new RegExp(`store="${writerId}"`))
    const write = await cli(scratch, repo, ['put', 'w', 'c', '1'])
    assert.equal(write.code, 1)
    assert.match(write.stderr, /its head is gone/)
    await assertReported(repo, /store w /, /had commit 2 here, but its head is gone/)
    await daemon.stop()
    assert.match(daemon.stderr, /store w .* had commit 2 here, but its head is gone/)
  })

  it('a repo made before the manifest gets one on its first open, and then notices losses', async () => {
    const repo = await scratch.dir()
    await cp(base, repo, { recursive: true })
    const manifest = join(repo, 'stores.json')
    await rm(manifest)
    assert.equal((await cliJson<{ ok: boolean }>(scratch, repo, ['pin', 'verify'])).ok, true)
    const written = JSON.parse(await readFile(manifest, 'utf8')) as { stores: Record<string, { seq: number }> }
    assert.equal(written.stores[writerId]?.seq, 2)
    const storage = await openLevelStorage(join(repo, 'data'))
    await storage.deleteHead(writerId)
    await storage.close()
    await assertReported(repo, /store w /, /had commit 2 here/)
  })
})

describe('other entries the database damaged', () => {
  it('a list of allowed writers that cannot be read is an error, not an empty list', async () => {
    const repo = await scratch.dir()
    await cp(base, repo, { recursive: true })
    const peer = '12D3KooWBWtiXJoKvqwUeDoaamNtXJHc5Wf51VJCmKmXsZADr81p'
    await cliJson(scratch, repo, ['store', 'allow', 'w', peer])
    const storage = await openLevelStorage(join(repo, 'data'))
    for await (const { key } of storage.datastore.query({ prefix: `/dagsync/writers/${writerId}` }))
      await storage.datastore.put(key, new TextEncoder().encode('{"trunc'))
    await storage.close()
    const status = await cli(scratch, repo, ['store', 'status', 'w'])
    assert.equal(status.code, 1, status.stdout)
    assert.match(status.stderr, /the list of peers allowed to write store .* is damaged .*dagsync store allow/)
    // Adding to it cannot keep what it held: refused, pointing to --replace, which sets it again.
    const add = await cli(scratch, repo, ['store', 'allow', 'w', peer])
    assert.equal(add.code, 1)
    assert.match(add.stderr, /is damaged .*`dagsync store allow k51\w+ --replace <peer id>\.\.\.`/)
    await cliJson(scratch, repo, ['store', 'allow', 'w', '--replace', peer])
    assert.deepEqual((await cliJson<{ writers: string[] }>(scratch, repo, ['store', 'status', 'w'])).writers, [peer])
  })
})

describe('the manifest itself', () => {
  it('when it is not a manifest, stops the repo from opening with what to do', async () => {
    const repo = await scratch.dir()
    await cp(base, repo, { recursive: true })
    await writeFile(join(repo, 'stores.json'), '{"version": 1, "stores": {"k51": "x"}}')
    const refused = await cli(scratch, repo, ['store', 'ls'])
    assert.equal(refused.code, 1)
    assert.match(
      refused.stderr,
      /stores\.json is not a dagsync store manifest .*: restore it from a backup, or remove it/,
    )
  })
})

describe('bits flipped in LevelDB table files', () => {
  it('never leave pin verify reporting success while a store, a name or a value is gone', async (t) => {
    const expected = await cliJson<unknown>(scratch, base, ['store', 'ls'])
    const tables = (await readdir(join(base, 'data'))).filter((f) => f.endsWith('.ldb'))
    assert.ok(tables.length > 0)
    let detected = 0
    let harmless = 0
    for (const table of tables) {
      for (const at of [0.2, 0.5, 0.8]) {
        const repo = await scratch.dir()
        await cp(base, repo, { recursive: true })
        const file = join(repo, 'data', table)
        const bytes = await readFile(file)
        const offset = Math.floor(bytes.length * at)
        for (let i = offset; i < Math.min(offset + 4, bytes.length); i++) bytes[i] = (bytes[i] as number) ^ 0x5a
        await writeFile(file, bytes)
        const verify = await cli(scratch, repo, ['pin', 'verify'])
        if (verify.code !== 0) {
          assert.match(verify.stderr, /^dagsync: .+/, `${table} at ${at}: a one-line message`)
          detected++
          continue
        }
        // Success is only right if nothing was lost.
        assert.deepEqual(await cliJson(scratch, repo, ['store', 'ls']), expected, `${table} at ${at}`)
        for (const [store, key] of [
          ['w', 'a'],
          ['w', 'b'],
          ['other', 'x'],
        ])
          assert.equal((await cliJson<{ value: { key: string } }>(scratch, repo, ['get', store, key])).value.key, key)
        harmless++
      }
    }
    t.diagnostic(`${detected} corruptions detected, ${harmless} harmless`)
    assert.ok(detected > 0, `${detected} detected, ${harmless} harmless`)
  })
})
