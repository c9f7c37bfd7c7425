// The bulk-import workload (issue 13): the tree workload's keys and values as NDJSON, imported
// with `dagsync import` into a running daemon (on LevelDB) while a reader follows the store,
// against the store's own bulk loads of the same entries.
//   node bench/src/run-import.ts baseline <keys>   one transaction on LevelDB, and tree.build in memory
//   node bench/src/run-import.ts cli <keys>        the CLI into a daemon, and the reader's sync
// Each prints one JSON line.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDagsyncNode, type SyncReport } from '@dagsync/peer'
import { MemoryBlockstore, memoryStorage, openStore } from '@dagsync/store'
import { openLevelStorage } from '@dagsync/store/level'
import { MerkleSearchTree } from '@dagsync/tree'
import { BUNDLE, buildCli } from '../../tools/build-cli.mjs'
import { startBenchDaemon } from './bench-daemon.ts'
import { key, value } from './subject.ts'

export interface ImportBaseline {
  keys: number
  /** One transaction of every key, on LevelDB, until it is durable. */
  transactionMs: number
  /** `tree.build` of the sorted entries in memory: the tree's own bulk load, no commit, no disk. */
  buildMs: number
}

export interface ImportResult {
  keys: number
  /** `dagsync import` from its start to its exit: reading the file, the HTTP calls, the commits. */
  cliMs: number
  commits: number
  /** From the import's end until the reader holds its last commit. */
  readerLagMs: number
  /** From the import's start until the reader holds its last commit. */
  readerTotalMs: number
  /** Syncs the reader made (a sync may take several commits at once) and the path of its last. */
  readerSyncs: number
  readerPath: SyncReport['path']
}

const [mode, keysArg] = process.argv.slice(2)
const keys = Number(keysArg ?? 100_000)
// The built CLI, as ./dagsync runs it (the sources would add their 0.7 s of loading to every run).
const bin = BUNDLE
const dirs: string[] = []
const tempDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `dagsync-bench-import-${name}-`))
  dirs.push(dir)
  return dir
}

async function baseline(): Promise<ImportBaseline> {
  const storage = await openLevelStorage(tempDir('baseline'))
  const db = await openStore({ storage, name: 'bench' })
  let started = performance.now()
  await db.transact(async (tx) => {
    for (let i = 0; i < keys; i++) await tx.assoc(key(i), value(i))
  })
  const transactionMs = performance.now() - started
  await db.close()
  await storage.close()
  globalThis.gc?.()
  const tree = new MerkleSearchTree(new MemoryBlockstore())
  started = performance.now()
  await tree.build(Array.from({ length: keys }, (_, i) => ({ key: key(i), value: value(i) })))
  const buildMs = performance.now() - started
  return { keys, transactionMs, buildMs }
}

function run(args: string[], options: { stdout?: 'pipe' | 'ignore' } = {}): ChildProcess {
  return spawn(process.execPath, [bin, ...args], { stdio: ['ignore', options.stdout ?? 'pipe', 'inherit'] })
}

async function cli(): Promise<ImportResult> {
  await buildCli()
  const file = join(tempDir('file'), 'keys.ndjson')
  const lines = Array.from({ length: keys }, (_, i) => `${JSON.stringify({ key: key(i), value: value(i) })}\n`)
  writeFileSync(file, lines.join(''))

  const repo = tempDir('repo')
  const daemon = await startBenchDaemon(repo)
  try {
    const { api, address } = daemon
    const { id } = await api.storeCreate({ name: 'bench' })

    // A reader following the store, as a browser or a second daemon would.
    const reader = await createDagsyncNode({
      storage: memoryStorage(),
      listen: [],
      peers: [address],
    })
    try {
      const replica = await reader.follow(id)
      await reader.connected(address.split('/p2p/')[1] as string, AbortSignal.timeout(30_000))
      const syncsBefore = reader.stats.syncs

      const started = performance.now()
      const importer = run(['--repo', repo, 'import', 'bench', file, '--json'])
      let out = ''
      importer.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
      })
      const code = await new Promise<number | null>((resolve) => importer.once('exit', resolve))
      const cliMs = performance.now() - started
      if (code !== 0) throw new Error(`dagsync import exited with ${code}`)
      const result = JSON.parse(out) as { commits: { commit: { seq: number } | null }[] }
      const last = result.commits.at(-1)?.commit?.seq ?? 0
      await replica.synced(last, AbortSignal.timeout(120_000))
      const synced = performance.now()
      return {
        keys,
        cliMs,
        commits: result.commits.length,
        readerLagMs: synced - started - cliMs,
        readerTotalMs: synced - started,
        readerSyncs: reader.stats.syncs - syncsBefore,
        readerPath: (replica.status().lastSync as SyncReport).path,
      }
    } finally {
      await reader.stop()
    }
  } finally {
    await daemon.stop()
  }
}

try {
  const result = mode === 'baseline' ? await baseline() : await cli()
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
}
