// Bulk writes as a user meets them: real `dagsync` processes. `put` with several keys, `import`
// in batches (a bad line named, its batch not committed, and what was committed said), `export`
// and back (binary values too, with and without a daemon), a progress bar on a terminal, a
// follower importing through its writer, and the API's own refusals.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { HttpClient } from '@dagsync/daemon/client'
import { MAX_BULK_OPS } from '@dagsync/store'
import { cli, cliJson, cliOnTty, DaemonProcess, eventually, Scratch, startDaemonRepo } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

const { repo, api, token } = await startDaemonRepo(scratch)

interface Commit {
  seq: number
  cid: { '/': string }
}

const seqOf = async (store: string): Promise<number> =>
  (await cliJson<{ seq: number }>(scratch, repo, ['store', 'status', store])).seq

/** `n` lines of the format; `line(i)` gives the i-th (0-based) entry. */
function ndjson(n: number, line: (i: number) => unknown = (i) => ({ key: `k/${pad(i)}`, value: { i } })): string {
  return `${Array.from({ length: n }, (_, i) => JSON.stringify(line(i))).join('\n')}\n`
}
const pad = (i: number) => String(i).padStart(5, '0')

async function file(name: string, text: string | Uint8Array): Promise<string> {
  const path = join(await scratch.dir(), name)
  await writeFile(path, text)
  return path
}

async function keyCount(r: string, store: string, prefix: string): Promise<number> {
  const out = await cli(scratch, r, ['keys', store, '--prefix', prefix, '--json'])
  assert.equal(out.code, 0, out.stderr)
  return out.stdout.split('\n').filter((l) => l !== '').length
}

describe('dagsync put with several keys', () => {
  it('writes them in one commit, and refuses a key without a value', async () => {
    const start = await seqOf('demo')
    const put = await cliJson<{ commit: Commit }>(scratch, repo, [
      'put',
      'demo',
      'm/a',
      '1',
      'm/b',
      '"two"',
      'm/c',
      '{"n": 3}',
    ])
    assert.equal(put.commit.seq, start + 1)
    const keys = (await cli(scratch, repo, ['keys', 'demo', '--prefix', 'm/', '--json'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; lastWrite: number })
    assert.deepEqual(
      keys.map((k) => k.key),
      ['m/a', 'm/b', 'm/c'],
    )
    assert.equal(new Set(keys.map((k) => k.lastWrite)).size, 1, 'one commit wrote them all')
    const text = await cli(scratch, repo, ['put', 'demo', 'm/d', 'x', 'm/e', 'y', '--string'])
    assert.match(text.stdout, /put 2 keys: commit \d+ bafy/)

    const odd = await cli(scratch, repo, ['put', 'demo', 'm/x', '1', 'm/y'])
    assert.equal(odd.code, 2)
    assert.match(odd.stderr, /give a value for every key: .*key "m\/y" has none/)
    const notJson = await cli(scratch, repo, ['put', 'demo', 'm/x', '1', 'm/y', 'hello'])
    assert.equal(notJson.code, 2)
    assert.match(notJson.stderr, /the value is not JSON/)
    assert.equal(await seqOf('demo'), start + 2, 'the refused puts committed nothing')
  })
})

describe('dagsync import', () => {
  it('commits in batches of 10,000 keys (or --batch), and prints the commits made', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'batches'])
    const path = await file(
      'keys.ndjson',
      ndjson(25_010, (i) =>
        i < 25_000 ? { key: `k/${pad(i)}`, value: { i } } : { key: `k/${pad(i - 25_000)}`, delete: true },
      ),
    )
    const result = await cliJson<{ keys: number; commits: { commit: Commit; keys: number; lines: number[] }[] }>(
      scratch,
      repo,
      ['import', 'batches', path],
    )
    assert.equal(result.keys, 25_010)
    assert.deepEqual(
      result.commits.map((c) => [c.commit.seq, c.keys, c.lines]),
      [
        [1, 10_000, [1, 10_000]],
        [2, 10_000, [10_001, 20_000]],
        [3, 5_010, [20_001, 25_010]],
      ],
    )
    assert.equal(await keyCount(repo, 'batches', 'k/'), 24_990)
    assert.equal(await seqOf('batches'), 3)

    await cliJson(scratch, repo, ['store', 'create', '--name', 'batches2'])
    const small = await file('small.ndjson', ndjson(3_500))
    const text = await cli(scratch, repo, ['import', 'batches2', small, '--batch', '1000', '--message', 'nightly'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^commit 1 bafy\S+ \(1000 keys, lines 1-1000\)$/m)
    assert.match(text.stdout, /^commit 4 bafy\S+ \(500 keys, lines 3001-3500\)$/m)
    assert.match(text.stdout, /^imported 3500 keys in 4 commits$/m)
    const log = await cli(scratch, repo, ['log', 'batches2', '--limit', '1'])
    assert.match(log.stdout, /nightly/)

    const over = await cli(scratch, repo, ['import', 'batches2', path, '--batch', String(MAX_BULK_OPS + 1)])
    assert.equal(over.code, 2)
    assert.match(over.stderr, /--batch is at most 10000/)
  })

  it('ends a batch before 1 MiB of keys and values, whatever --batch says', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'bytes'])
    const path = await file(
      'large.ndjson',
      ndjson(200, (i) => ({ key: `l/${pad(i)}`, value: 'x'.repeat(20_000) })),
    )
    const result = await cliJson<{ commits: { keys: number }[] }>(scratch, repo, ['import', 'bytes', path])
    const sizes = result.commits.map((c) => c.keys)
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      200,
    )
    assert.ok(sizes.length >= 4 && sizes.every((n) => n * 20_000 < 1024 * 1024), `batches of ${sizes.join(', ')} keys`)
    assert.equal(await keyCount(repo, 'bytes', 'l/'), 200)
  })

  it('fails on a bad line with its number, commits nothing of its batch, and says what was committed before', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'bad-line'])
    const path = await file(
      'bad.ndjson',
      ndjson(12_000, (i) => (i === 10_002 ? 'not json' : { key: `k/${pad(i)}`, value: { i } })).replace(
        '"not json"',
        '{"key": "k/bad", "value": ',
      ),
    )
    const failed = await cli(scratch, repo, ['import', 'bad-line', path])
    assert.equal(failed.code, 2, failed.stderr)
    assert.match(
      failed.stderr,
      /^dagsync: line 10003: not JSON \(.*\) \(nothing of the batch from line 10001 on was committed\); committed before it: 1 commit of line 1 to 10000 \(up to commit 1\)$/m,
    )
    assert.equal(await seqOf('bad-line'), 1)
    assert.equal(await keyCount(repo, 'bad-line', 'k/'), 10_000)
    assert.equal((await cli(scratch, repo, ['get', 'bad-line', `k/${pad(10_000)}`])).code, 3)

    // Refused by the store, not the CLI (a ref to bytes the repo lacks): the same, by the input's line.
    const missing = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
    const refused = await file(
      'refused.ndjson',
      ndjson(10, (i) => (i === 6 ? { key: 'r', ref: { '/': missing } } : { key: `r/${i}`, value: i })),
    )
    const byStore = await cli(scratch, repo, ['import', 'bad-line', refused, '--batch', '4'])
    assert.equal(byStore.code, 2, byStore.stderr)
    assert.match(
      byStore.stderr,
      new RegExp(
        `line 7 \\(put-ref "r"\\): ref ${missing} names a block this storage does not hold.* \\(nothing of the batch of line 5 to 8 was committed\\); committed before it: 1 commit of line 1 to 4 \\(up to commit 2\\)`,
      ),
    )
    assert.equal(await seqOf('bad-line'), 2)
  })

  it('reads one JSON object from stdin, and refuses input that is neither format', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'object'])
    const done = await cli(scratch, repo, ['import', 'object'], { input: '{"o/a": 1,\n "o/b": {"x": [1, 2]}}\n' })
    assert.equal(done.code, 0, done.stderr)
    assert.match(done.stdout, /commit 1 bafy\S+ \(2 keys, entries 1-2\)/)
    assert.deepEqual((await cliJson<{ value: unknown }>(scratch, repo, ['get', 'object', 'o/b'])).value, { x: [1, 2] })
    const neither = await cli(scratch, repo, ['import', 'object'], { input: '[1, 2]\n' })
    assert.equal(neither.code, 2)
    assert.match(neither.stderr, /neither NDJSON nor a JSON object/)
    const badEntry = await cli(scratch, repo, ['import', 'object'], { input: '{"o/c": 1, "o/d": NaN}' })
    assert.equal(badEntry.code, 2)
    assert.equal(await seqOf('object'), 1)
  })

  it('shows a progress bar on a terminal', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'tty'])
    const path = await file('tty.ndjson', ndjson(6_000))
    const shown = await cliOnTty(scratch, repo, ['import', 'tty', path, '--batch', '1000'])
    assert.equal(shown.code, 0, shown.output)
    assert.match(shown.output, /importing .* \d+ keys \| [\d.]+ (KiB|MiB) \|/)
    assert.match(shown.output, /imported 6000 keys in 6 commits/)
    // Not on a pipe: the same run prints only the commits.
    await cliJson(scratch, repo, ['store', 'create', '--name', 'pipe'])
    const piped = await cli(scratch, repo, ['import', 'pipe', path, '--batch', '1000'])
    assert.doesNotMatch(piped.stderr + piped.stdout, /importing/)
  })
})

describe('dagsync export', () => {
  it('writes what import reads: every kind of value round-trips, binary values in base64, with and without a daemon', async () => {
    await cliJson(scratch, repo, ['store', 'create', '--name', 'orig'])
    const first = await cliJson<{ commit: Commit }>(scratch, repo, [
      'put',
      'orig',
      'v/text',
      '"\\ufeffwith a BOM, é, 🎉"',
    ])
    const values: [string, string][] = [
      ['v/nested', '{"a": [1, 2.5, null, true, {"b": "c"}], "e": {}, "l": []}'],
      ['v/big', '1152921504606846976'],
      ['v/negative', '-42'],
      ['v/link', JSON.stringify({ commit: first.commit.cid })],
      ['v/bytes-value', '{"/": {"bytes": "AAECAw"}}'],
    ]
    for (const [key, value] of values) assert.equal((await cli(scratch, repo, ['put', 'orig', key, value])).code, 0)
    const binaries: [string, number][] = [
      ['b/empty', 0],
      ['b/small', 100],
      ['b/staged', 40_000],
      ['b/chunked', 3_000_000],
    ]
    for (const [key, size] of binaries) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 13) % 256)
      const put = await cli(scratch, repo, ['put', 'orig', key, '--file', await file('bin', bytes)])
      assert.equal(put.code, 0, put.stderr)
    }
    // A key that is bytes, written through import (put takes text keys).
    const byteKey = await cli(scratch, repo, ['import', 'orig'], {
      input: '{"key": {"/": {"bytes": "AP8"}}, "bytes": "aGk="}\n',
    })
    assert.equal(byteKey.code, 0, byteKey.stderr)

    const exported = join(await scratch.dir(), 'orig.ndjson')
    const wrote = await cli(scratch, repo, ['export', 'orig', '-o', exported])
    assert.match(wrote.stdout, /exported 11 keys \(.*\) to /)
    const text = await readFile(exported, 'utf8')
    const lines = text.trim().split('\n')
    assert.equal(lines.length, 11)
    assert.equal(lines[0], '{"key":{"/":{"bytes":"AP8"}},"bytes":"aGk="}', 'bytes keys first, in byte order')
    const small = Buffer.from(Uint8Array.from({ length: 100 }, (_, i) => (i * 13) % 256)).toString('base64')
    assert.ok(lines.includes(`{"key":"b/small","bytes":"${small}"}`), 'a binary value is its bytes in base64')
    assert.ok(
      lines.includes('{"key":"v/bytes-value","value":{"/":{"bytes":"AAECAw"}}}'),
      'a value that is bytes stays a value',
    )
    assert.ok(lines.includes('{"key":"v/big","value":1152921504606846976}'))

    await cliJson(scratch, repo, ['store', 'create', '--name', 'copy'])
    const imported = await cli(scratch, repo, ['import', 'copy', exported])
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stdout, /imported 11 keys in 1 commit/)
    const again = await cli(scratch, repo, ['export', 'copy'])
    assert.equal(again.stdout, text, 'the copy exports byte for byte the same')
    const types = async (store: string) =>
      (await cli(scratch, repo, ['keys', store, '--json'])).stdout
        .trim()
        .split('\n')
        .map((l) => {
          const { key, type, size } = JSON.parse(l)
          return [key, type, size]
        })
    assert.deepEqual(await types('copy'), await types('orig'))

    // On a repo with no daemon, the same file imports and exports the same (but for the link, to
    // a block of the first repo, which this one would refuse: it does not hold it).
    const offline = await scratch.dir()
    assert.equal((await cli(scratch, offline, ['init', '--no-demo'])).code, 0)
    await cliJson(scratch, offline, ['store', 'create', '--name', 'copy'])
    const unlinked = text.replace(/^.*"v\/link".*\n/m, '')
    const direct = await cli(scratch, offline, ['import', 'copy', await file('unlinked.ndjson', unlinked)])
    assert.equal(direct.code, 0, direct.stderr)
    assert.equal((await cli(scratch, offline, ['export', 'copy'])).stdout, unlinked)
  })
})

describe('import through a follower', () => {
  it('commits on the writer, batch by batch, once the follower is allowed', async () => {
    const readerRepo = await scratch.dir()
    const reader = await DaemonProcess.start(scratch, readerRepo)
    const r = await reader.ready
    const writer = await cliJson<{ addresses: string[] }>(scratch, repo, ['id'])
    const demo = (await cliJson<{ id: string }>(scratch, repo, ['store', 'status', 'demo'])).id
    assert.equal((await cli(scratch, readerRepo, ['peers', 'connect', writer.addresses[0] as string])).code, 0)
    await cliJson(scratch, readerRepo, ['store', 'follow', demo, '--name', 'shared'])
    const start = await seqOf('demo')
    await eventually('the reader holds the head', async () =>
      (await cliJson<{ seq: number }>(scratch, readerRepo, ['store', 'status', 'shared'])).seq === start
        ? true
        : undefined,
    )
    const path = await file(
      'remote.ndjson',
      ndjson(6_000, (i) => ({ key: `remote/${pad(i)}`, value: { i } })),
    )
    const refused = await cli(scratch, readerRepo, ['import', 'shared', path])
    assert.equal(refused.code, 4, refused.stderr)
    assert.match(refused.stderr, /nothing was committed/)
    await cliJson(scratch, repo, ['store', 'allow', 'demo', r.peerId])
    const result = await cliJson<{ commits: { commit: Commit & { meta: { by: string } } }[] }>(scratch, readerRepo, [
      'import',
      'shared',
      path,
      '--batch',
      '5000',
    ])
    assert.deepEqual(
      result.commits.map((c) => [c.commit.seq, c.commit.meta.by]),
      [
        [start + 1, r.peerId],
        [start + 2, r.peerId],
      ],
    )
    assert.equal(await keyCount(repo, 'demo', 'remote/'), 6_000)
    assert.equal(await keyCount(readerRepo, 'shared', 'remote/'), 6_000, 'the follower holds what it wrote')
  })
})

describe('the transact API', () => {
  it('refuses a body past the bulk limits at the op that passes them, naming it, and commits nothing', async () => {
    const start = await seqOf('demo')
    const lines = ndjson(MAX_BULK_OPS + 1, (i) => ({ op: 'delete', key: `k${i}` }))
    const response = await fetch(`${api}/api/v1/transact?args=${encodeURIComponent('{"store":"demo"}')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: lines,
    })
    assert.equal(response.status, 400)
    const { error } = (await response.json()) as { error: { message: string; index: number } }
    assert.equal(error.index, MAX_BULK_OPS)
    assert.match(error.message, /^line 10001: ops\[10000\] is past the limit of one bulk call \(10000 ops\)/)
    assert.equal(await seqOf('demo'), start)

    // Through the client: bytes staged, then placed by reference.
    const client = new HttpClient({ url: api, token })
    const bytes = Uint8Array.from({ length: 2_000_000 }, (_, i) => i % 251)
    const { ref, size } = await client.stageBytes(
      { store: 'demo' },
      (async function* () {
        yield bytes
      })(),
    )
    assert.equal(size, bytes.length)
    const { commit } = await client.transact({ store: 'demo', meta: { message: 'by ref' } }, [
      { op: 'put-ref', key: 'files/big', ref },
      { op: 'put', key: 'files/index', value: { big: ref } },
    ])
    assert.equal(commit?.seq, start + 1)
    const chunks: Uint8Array[] = []
    for await (const chunk of await client.getBytes({ store: 'demo', key: 'files/big' })) chunks.push(chunk)
    assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), bytes)
  })
})
