// Writer lists through real `dagsync` processes: `store allow` adds, `deny` removes, `writers`
// lists, each printing the list as it is after; only `--replace` replaces. Concurrent changes all
// count, a peer config.json allows cannot be denied from the CLI, and a client that sends no mode
// (one made before `add` existed) still replaces, as it did.
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { HttpClient } from '@dagsync/daemon/client'
import { apiClient, cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const [A, B, C, D] = [
  '12D3KooWRGy3N4n2reGUR8NSoA73KpH8mBZD8xuTe47RgfsTWotT',
  '12D3KooWR8iJ5DCJiZzRiQC9v6E6ng63qQPsJSp8E5iFNPAJYJho',
  '12D3KooWLyc2Fvt6mZx6S34QUxgzb2xwkRNuC6Nuw8TwDtCzsnYb',
  '12D3KooWMdwJYLXCMusWk2YUzz7jVhwd8N5sSEBc8abdahfNJg1E',
] as const

interface Writers {
  writers: string[]
  configured: string[]
}

const scratch = new Scratch()
let repo: string
let client: HttpClient
after(() => scratch.close())
before(async () => {
  repo = await scratch.dir()
  assert.equal((await cli(scratch, repo, ['init'])).code, 0)
  // D is allowed by the config, for the demo store by name.
  const configFile = join(repo, 'config.json')
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>
  await writeFile(configFile, JSON.stringify({ ...config, writers: { demo: [D] } }))
  const daemon = await DaemonProcess.start(scratch, repo)
  client = await apiClient(repo, (await daemon.ready).api)
})

describe('dagsync store allow|deny|writers', () => {
  it('allow adds, deny removes, writers lists, and each prints the resulting list', async () => {
    assert.deepEqual(await cliJson<Writers>(scratch, repo, ['store', 'writers', 'demo']), {
      writers: [D],
      configured: [D],
    })
    assert.deepEqual((await cliJson<Writers>(scratch, repo, ['store', 'allow', 'demo', A])).writers, [A, D])
    const added = await cli(scratch, repo, ['store', 'allow', 'demo', B])
    assert.equal(added.code, 0, added.stderr)
    assert.equal(
      added.stdout,
      `may write demo besides this node:\n  ${A}\n  ${B}\n  ${D}  (config.json; change it there)\n`,
    )
    // Allowing one already allowed changes nothing.
    assert.deepEqual((await cliJson<Writers>(scratch, repo, ['store', 'allow', 'demo', A])).writers, [A, B, D])
    const denied = await cli(scratch, repo, ['store', 'deny', 'demo', A])
    assert.equal(denied.code, 0, denied.stderr)
    assert.match(denied.stdout, new RegExp(`^  ${B}$`, 'm'))
    assert.doesNotMatch(denied.stdout, new RegExp(A))
    const listed = await cli(scratch, repo, ['store', 'writers', 'demo'])
    assert.equal(listed.stdout, denied.stdout)

    // Replacing takes --replace; with no peers it leaves only those config.json allows.
    assert.deepEqual((await cliJson<Writers>(scratch, repo, ['store', 'allow', 'demo', '--replace', C])).writers, [
      C,
      D,
    ])
    assert.deepEqual((await cliJson<Writers>(scratch, repo, ['store', 'allow', 'demo', '--replace'])).writers, [D])
    const storeStatus = await cliJson<{ writers: string[] }>(scratch, repo, ['store', 'status', 'demo'])
    assert.deepEqual(storeStatus.writers, [D], 'the served store uses the new list')
  })

  it('refuses what would not do what it says, and changes nothing', async () => {
    await cliJson(scratch, repo, ['store', 'allow', 'demo', '--replace', A])
    const cases: [string[], number, RegExp][] = [
      [['store', 'allow', 'demo'], 2, /name the peers to allow .* --replace/],
      [['store', 'allow', 'demo', B, 'not-a-peer'], 2, /"not-a-peer" is not a peer id/],
      [['store', 'deny', 'demo', D], 1, /allowed by config\.json \("writers"\): remove it there/],
      [['store', 'deny', 'demo'], 2, /missing required argument/],
    ]
    for (const [args, code, message] of cases) {
      const result = await cli(scratch, repo, args)
      assert.equal(result.code, code, `dagsync ${args.join(' ')}: ${result.stderr}`)
      assert.match(result.stderr, message)
      assert.match(result.stderr, /^dagsync: /)
    }
    assert.deepEqual((await cliJson<Writers>(scratch, repo, ['store', 'writers', 'demo'])).writers, [A, D])
  })

  it('counts every one of many changes made at once', async () => {
    await client.storeAllow({ store: 'demo', peers: [], mode: 'replace' })
    await Promise.all([A, B, C].map((peer) => client.storeAllow({ store: 'demo', peers: [peer], mode: 'add' })))
    assert.deepEqual([...(await client.storeWriters({ store: 'demo' })).writers].sort(), [A, B, C, D].sort())
    await Promise.all([A, C].map((peer) => client.storeDeny({ store: 'demo', peers: [peer] })))
    assert.deepEqual((await client.storeWriters({ store: 'demo' })).writers, [B, D])
  })

  it('replaces the list for a client that sends no mode, as before `add` existed', async () => {
    await client.storeAllow({ store: 'demo', peers: [A, B], mode: 'replace' })
    assert.deepEqual((await client.storeAllow({ store: 'demo', peers: [C] })).writers, [C, D])
  })
})
