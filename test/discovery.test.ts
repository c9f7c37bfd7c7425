// Discovery through the DHT with real processes: five daemons in a chain, each joined to the DHT
// through the one before it, the fifth writing a store; a sixth daemon told only the first one's
// address (as its DHT bootstrap) and the store's id follows it and holds what the fifth wrote.
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { cli, DaemonProcess, eventually, type ReadyLine, Scratch } from './cli-helpers.ts'

const scratch = new Scratch()
after(() => scratch.close())

async function init(demo: boolean): Promise<string> {
  const repo = await scratch.dir()
  const result = await cli(scratch, repo, ['init', ...(demo ? [] : ['--no-demo'])])
  assert.equal(result.code, 0, result.stderr)
  return repo
}

/** Starts the daemon of `repo`, joined to the DHT through `bootstrap` (none: it starts the network). */
async function start(repo: string, bootstrap: ReadyLine | undefined): Promise<ReadyLine> {
  if (bootstrap !== undefined) {
    const set = await cli(scratch, repo, ['config', 'set', 'dht.bootstrap', JSON.stringify([bootstrap.addresses[0]])])
    assert.equal(set.code, 0, set.stderr)
  }
  return (await DaemonProcess.start(scratch, repo)).ready
}

describe('discovery through the DHT', () => {
  it('leads a daemon that knows the first of five chained daemons to a store the fifth writes', async () => {
    // Five in the chain (the fifth with the demo store), and the reader.
    const repos = await Promise.all([false, false, false, false, true, false].map(init))
    const chain: ReadyLine[] = []
    for (const repo of repos.slice(0, 5)) chain.push(await start(repo, chain.at(-1)))
    const [writerRepo, readerRepo] = [repos[4], repos[5]]
    const store = chain[4].stores.find((s) => s.names.includes('demo'))
    assert.ok(store, 'the fifth daemon writes the demo store')
    assert.equal((await cli(scratch, writerRepo, ['put', 'demo', 'found', '"through the DHT"'])).code, 0)

    await start(readerRepo, chain[0])
    const followed = await cli(scratch, readerRepo, ['store', 'follow', store.id, '--name', 'found'])
    assert.equal(followed.code, 0, followed.stderr)
    const value = await eventually(
      'the value the fifth daemon wrote',
      async () => {
        const got = await cli(scratch, readerRepo, ['get', 'found', 'found'])
        return got.code === 0 ? got.stdout.trim() : undefined
      },
      60_000,
    )
    assert.equal(value, '"through the DHT"')
    const keys = async (repo: string, name: string) => (await cli(scratch, repo, ['keys', name])).stdout
    assert.equal(await keys(readerRepo, 'found'), await keys(writerRepo, 'demo'))
  })
})
