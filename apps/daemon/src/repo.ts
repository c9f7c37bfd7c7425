// A repo: the directory a daemon (or the CLI, when no daemon runs) works in.
//
//   <repo>/config.json   settings (see config.ts), written with every default on init
//   <repo>/api-token     the token the HTTP API requires for every call that changes state
//   <repo>/repo.lock     while a process has the repo open: its pid, command and API address
//   <repo>/data/         LevelDB: blocks, store heads, pins, the peer key and store keys
//   <repo>/stores.json   the stores the repo knows, to notice one the database lost (manifest.ts)
//
// One process at a time: the lock names the process that holds it, and a lock left by a
// process that died (kill -9) is taken over. LevelDB's own lock backs this up. The directory and
// everything in it are private to the owner (see permissions.ts), fixed on every open.
import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { chmod, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StorageLockedError } from '@dagsync/store'
import { type LevelStorage, openLevelStorage } from '@dagsync/store/level'
import { Key } from 'interface-datastore'
import { ApiError, type StoreProblem } from './api.ts'
import { type DaemonConfig, DEFAULT_CONFIG, readConfig } from './config.ts'
import { compareManifest, type ManifestEntry, StoreManifest, sameEntries } from './manifest.ts'
import { checkStoreName } from './names.ts'
import { makePrivate, PRIVATE_DIR, PRIVATE_FILE, privateUmask } from './permissions.ts'
import { type LockInfo, pidAlive, readLock, readToken } from './repo-files.ts'
import { readRepoState } from './repo-state.ts'

import { describeStorageFailure, storageFailure } from './storage-errors.ts'
import { gateStorage, StorageGate } from './storage-gate.ts'

export { type LockInfo, readToken, repoHolder, repoPath } from './repo-files.ts'

export class RepoLockedError extends ApiError {
  override name = 'RepoLockedError'
  readonly holder: LockInfo

  constructor(path: string, holder: LockInfo) {
    const what = holder.command === 'daemon' ? 'a dagsync daemon' : `dagsync ${holder.command}`
    super(
      'unavailable',
      `the repo ${path} is in use by ${what} (pid ${holder.pid}, since ${new Date(holder.since).toISOString()})`,
    )
    this.holder = holder
  }
}

/** Creates the repo directory with its config and API token, if they do not exist. Returns whether it created the config. */
export async function initRepo(path: string, config: Partial<DaemonConfig> = {}): Promise<boolean> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR })
  await chmod(path, PRIVATE_DIR)
  const tokenFile = join(path, 'api-token')
  if (!existsSync(tokenFile)) {
    await writeFile(tokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: PRIVATE_FILE })
    await chmod(tokenFile, PRIVATE_FILE)
  }
  const configFile = join(path, 'config.json')
  if (existsSync(configFile)) return false
  const full = readConfig({ ...DEFAULT_CONFIG, ...config }, configFile)
  // Private too: pinningServices holds the services' access tokens.
  await writeFile(configFile, `${JSON.stringify(full, null, 2)}\n`, { mode: PRIVATE_FILE })
  return true
}

export async function loadConfig(path: string): Promise<DaemonConfig> {
  return readConfig(await readConfigFile(path), join(path, 'config.json'))
}

/** config.json as it is in the file (parsed, not checked, no defaults filled in). */
export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const file = join(path, 'config.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ApiError('internal', `cannot read ${file}: ${(err as Error).message}`, { cause: err })
    throw new ApiError(
      'not-found',
      `no dagsync repo at ${path} (run \`dagsync init\` or start the daemon to create one)`,
    )
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new ApiError('bad-request', `${file} is not valid JSON: ${(err as Error).message}`)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new ApiError('bad-request', `${file} must hold one JSON object`)
  return data as Record<string, unknown>
}

const NAMES = '/dagsync/names'
const PEER_ID = new Key('/dagsync/peer-id')

/** An open repo: its config, token and storage, held by this process until `close`. */
export class Repo {
  readonly path: string
  readonly config: DaemonConfig
  readonly token: string
  /** The database, every write through `gate`. */
  readonly storage: LevelStorage
  /** Closed by the first write that fails: no write goes through after that until the repo is reopened. */
  readonly gate: StorageGate
  /** Paths that other users could read, made private (0700/0600) when the repo was opened. */
  readonly madePrivate: readonly string[]
  /** Things that went wrong while opening but did not stop it (a manifest that could not be written), for the user. */
  readonly warnings: string[] = []
  readonly #manifest: StoreManifest
  #problems: StoreProblem[] = []
  readonly #lockFile: string
  #lock: LockInfo
  #closed = false
  readonly #onExit: () => void
  readonly #releaseUmask: () => void

  private constructor(init: {
    path: string
    config: DaemonConfig
    token: string
    storage: LevelStorage
    gate: StorageGate
    lock: LockInfo
    madePrivate: string[]
    releaseUmask: () => void
    manifest: StoreManifest
  }) {
    this.path = init.path
    this.config = init.config
    this.token = init.token
    this.storage = init.storage
    this.gate = init.gate
    this.madePrivate = init.madePrivate
    this.#manifest = init.manifest
    this.#releaseUmask = init.releaseUmask
    this.#lockFile = join(init.path, 'repo.lock')
    this.#lock = init.lock
    // A process that exits without closing (an uncaught error) still frees the repo.
    this.#onExit = () => {
      rmSync(this.#lockFile, { force: true })
    }
    process.once('exit', this.#onExit)
  }

  /**
   * Opens the repo at `path` for `command` (creating it first if `create`), taking its lock.
   * Fails with RepoLockedError, naming the holder, if another live process has it open.
   */
  static async open(path: string, options: { command: string; create?: boolean }): Promise<Repo> {
    try {
      return await Repo.#open(path, options)
    } catch (err) {
      // A full disk or a damaged database: say which, and what to do.
      const failure = err instanceof ApiError ? undefined : storageFailure(err)
      if (failure === undefined) throw err
      const dataDir = join(path, 'data')
      throw new ApiError(
        failure.kind === 'io' ? 'unavailable' : 'internal',
        `cannot open the repo ${path}: ${describeStorageFailure(failure, dataDir)}${failure.kind === 'io' ? ', then try again' : ''}`,
        { cause: err },
      )
    }
  }

  static async #open(path: string, options: { command: string; create?: boolean }): Promise<Repo> {
    if (options.create === true) await initRepo(path)
    const config = await loadConfig(path)
    const token = await readToken(path)
    // Everything this process creates from here on (the lock, LevelDB's files) is private.
    const releaseUmask = privateUmask()
    try {
      const lock = await Repo.#acquire(path, options.command)
      try {
        const madePrivate = await makePrivate(path)
        const manifest = await StoreManifest.read(path)
        const gate = new StorageGate(join(path, 'data'))
        const storage = gateStorage(await openLevelStorage(join(path, 'data')), gate)
        const repo = new Repo({ path, config, token, storage, gate, lock, madePrivate, releaseUmask, manifest })
        let entries: Map<string, ManifestEntry>
        try {
          entries = await repo.#compare()
        } catch (err) {
          await repo.#release()
          throw err
        }
        // Recording what the check learned may fail (a full disk) without keeping the repo shut.
        await repo
          .#record(entries)
          .catch((err: Error) => repo.warnings.push(`could not update ${manifest.path}: ${err.message}`))
        return repo
      } catch (err) {
        await rm(join(path, 'repo.lock'), { force: true })
        if (err instanceof StorageLockedError)
          throw new ApiError('unavailable', `the repo's database at ${join(path, 'data')} is open in another process`)
        throw err
      }
    } catch (err) {
      releaseUmask()
      throw err
    }
  }

  static async #acquire(path: string, command: string): Promise<LockInfo> {
    const file = join(path, 'repo.lock')
    const info: LockInfo = { pid: process.pid, command, since: Date.now() }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx')
        try {
          await handle.writeFile(JSON.stringify(info))
        } catch (err) {
          // A full disk: leave no empty lock behind.
          await handle.close()
          await rm(file, { force: true })
          throw err
        }
        await handle.close()
        return info
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await readLock(file)
      if (holder !== undefined && pidAlive(holder.pid)) throw new RepoLockedError(path, holder)
      // Left by a process that died: take it over.
      await rm(file, { force: true })
    }
    throw new ApiError('unavailable', `could not take the lock of the repo ${path}`)
  }

  /** Records the API URL in the lock, where the CLI finds it. */
  async setApi(url: string): Promise<void> {
    this.#lock = { ...this.#lock, api: url }
    await writeFile(this.#lockFile, JSON.stringify(this.#lock))
  }

  /** The peer id the daemon last ran with (the CLI shows it when no daemon runs). */
  async peerId(): Promise<string | undefined> {
    try {
      return new TextDecoder().decode(await this.storage.datastore.get(PEER_ID))
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined // no daemon has run yet
      throw err
    }
  }

  async setPeerId(id: string): Promise<void> {
    await this.storage.datastore.put(PEER_ID, new TextEncoder().encode(id))
  }

  // --- store names -----------------------------------------------------------------------------

  /** Local names of stores, name → store id. */
  async names(): Promise<Map<string, string>> {
    const out = new Map<string, string>()
    for await (const { key, value } of this.storage.datastore.query({ prefix: NAMES }))
      out.set(key.baseNamespace(), new TextDecoder().decode(value))
    return out
  }

  async setName(name: string, id: string): Promise<void> {
    checkStoreName(name)
    const existing = (await this.names()).get(name)
    if (existing !== undefined && existing !== id)
      throw new ApiError('conflict', `the name "${name}" is already given to store ${existing}`)
    await this.storage.datastore.put(new Key(`${NAMES}/${name}`), new TextEncoder().encode(id))
  }

  // --- the store manifest (see manifest.ts) ----------------------------------------------------

  /** Stores the repo knew that its database lost or cannot read, as of the last check. */
  get problems(): readonly StoreProblem[] {
    return this.#problems
  }

  /** The problems of one store: those that make its data untrustworthy (a lost name does not). */
  damageOf(id: string): StoreProblem[] {
    return this.#problems.filter((p) => p.store === id && p.kind !== 'name-missing')
  }

  /**
   * Compares the manifest with the database: what the manifest lists must be there. Records what
   * the database adds (new stores and names, newer commits) and returns what is wrong.
   */
  async checkStores(): Promise<readonly StoreProblem[]> {
    await this.#record(await this.#compare())
    return this.#problems
  }

  /** Sets `problems`; returns the manifest's entries with what the database adds. */
  async #compare(): Promise<Map<string, ManifestEntry>> {
    const state = await readRepoState(this.storage, await this.names())
    const { problems, entries } = compareManifest(this.#manifest.entries, state)
    this.#problems = problems
    return entries
  }

  async #record(entries: Map<string, ManifestEntry>): Promise<void> {
    if (!sameEntries(entries, this.#manifest.entries) || this.#manifest.dirty || !existsSync(this.#manifest.path))
      await this.#manifest.save(entries)
  }

  /**
   * Notes that a store reached commit `seq`. The first commit is written at once; later ones with
   * the next check or at close. Never fails: the commit is made whatever happens here, and a
   * manifest that could not be written stays marked, so the next check writes it or reports why not.
   */
  async noteHead(id: string, seq: number): Promise<void> {
    const entry = this.#manifest.entries.get(id)
    if (entry === undefined || seq <= entry.seq) return
    this.#manifest.set(id, { ...entry, seq })
    if (entry.seq === 0) await this.#manifest.flush().catch(() => {})
  }

  /** Drops a store from the manifest: before the database forgets it, so a crash in between is no false alarm. */
  async forgetStore(id: string): Promise<void> {
    const entries = new Map(this.#manifest.entries)
    if (!entries.delete(id)) return
    await this.#manifest.save(entries)
  }

  async deleteNames(id: string): Promise<void> {
    for (const [name, named] of await this.names())
      if (named === id) await this.storage.datastore.delete(new Key(`${NAMES}/${name}`))
  }

  /** Records the stores' latest commits in the manifest, closes the database and frees the repo. */
  async close(): Promise<void> {
    if (this.#closed) return
    let failure: unknown
    try {
      await this.checkStores()
    } catch (err) {
      failure = err
    }
    await this.#release()
    if (failure !== undefined) throw failure
  }

  async #release(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.storage.close()
    process.removeListener('exit', this.#onExit)
    const holder = await readLock(this.#lockFile)
    if (holder?.pid === process.pid) await rm(this.#lockFile, { force: true })
    this.#releaseUmask()
  }
}
