// The stores a repo knows, kept outside its database, so that losing a store in the database is
// noticed. Bits flipped in LevelDB's files can make entries vanish without an error: a store's
// key, its follow record, its head or its name. Then the store would simply not be listed, and
// `pin verify` (which checks what is listed) would pass. The manifest says what should be there:
// every store the repo writes or follows, its names, and the highest commit it is known to have
// held, which its head must not be below.
//
//   <repo>/stores.json   {"version": 1, "stores": {"k51...": {"role", "names", "seq"}}}
//
// It is written whole to a temporary file, synced and renamed over the old one (0600, like the
// rest of the repo), so a crash leaves the old manifest or the new one, never half of one.
import { open, readFile, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { StoreProblem } from './api.ts'
import { ApiError } from './api.ts'
import { PRIVATE_FILE } from './permissions.ts'

export type StoreRole = 'writer' | 'replica' | 'sparse'

export interface ManifestEntry {
  readonly role: StoreRole
  /** Local names of the store. */
  readonly names: readonly string[]
  /** The highest commit this repo is known to have held (0: none yet); its head must be at least this. */
  readonly seq: number
}

/** A store's head as storage has it: the commit's seq, `missing`, or why it cannot be read. */
export type HeadState = number | 'missing' | { readonly unreadable: string }

/** What the repo's database holds, to compare with the manifest. */
export interface RepoState {
  /** Stores by role: those whose writer key is held, and those followed (sparse or not). */
  readonly roles: ReadonlyMap<string, StoreRole>
  /** Local names, name → store id. */
  readonly names: ReadonlyMap<string, string>
  /**
   * Each store's head as storage has it: the commit's seq, `missing` if storage has no head,
   * or a reason it cannot be read. Sparse stores keep no head in storage and are left out.
   */
  readonly heads: ReadonlyMap<string, HeadState>
}

const FILE = 'stores.json'

export class ManifestError extends ApiError {
  override name = 'ManifestError'
}

/** Writes `text` to `path` so that a crash leaves either the old file or the new one: temp file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(path: string, text: string, mode = PRIVATE_FILE): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  const file = await open(temporary, 'w', mode)
  try {
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(temporary, path)
  const dir = await open(dirname(path), 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
}

export class StoreManifest {
  readonly path: string
  readonly #entries: Map<string, ManifestEntry>
  #saving: Promise<void> = Promise.resolve()
  #dirty = false

  private constructor(path: string, entries: Map<string, ManifestEntry>) {
    this.path = path
    this.#entries = entries
  }

  /** Reads the manifest of the repo at `repoPath` (empty if it has none yet). Fails with ManifestError if the file is not a manifest. */
  static async read(repoPath: string): Promise<StoreManifest> {
    const path = join(repoPath, FILE)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new StoreManifest(path, new Map())
      throw err
    }
    return new StoreManifest(path, parseManifest(text, path))
  }

  get entries(): ReadonlyMap<string, ManifestEntry> {
    return this.#entries
  }

  /** Whether entries changed in memory since the file was last written. */
  get dirty(): boolean {
    return this.#dirty
  }

  /** Changes an entry in memory (`flush` writes it). */
  set(id: string, entry: ManifestEntry): void {
    this.#entries.set(id, entry)
    this.#dirty = true
  }

  /** Replaces every entry and writes the file. */
  async save(entries: ReadonlyMap<string, ManifestEntry>): Promise<void> {
    this.#entries.clear()
    for (const [id, entry] of entries) this.#entries.set(id, entry)
    await this.flush()
  }

  /** Writes the entries as they are now; writes are queued, each one whole. */
  async flush(): Promise<void> {
    const stores = Object.fromEntries([...this.#entries].sort(([a], [b]) => a.localeCompare(b)))
    const text = `${JSON.stringify({ version: 1, stores }, null, 2)}\n`
    this.#dirty = false
    const write = this.#saving.then(() => writeFileAtomic(this.path, text))
    write.catch(() => {
      this.#dirty = true // written at the next flush
    })
    this.#saving = write.catch(() => {}) // the next write goes on; this one's caller gets the error
    await write
  }
}

/** Whether two sets of entries say the same. */
export function sameEntries(a: ReadonlyMap<string, ManifestEntry>, b: ReadonlyMap<string, ManifestEntry>): boolean {
  if (a.size !== b.size) return false
  for (const [id, x] of a) {
    const y = b.get(id)
    if (y === undefined || x.role !== y.role || x.seq !== y.seq || x.names.join('\0') !== y.names.join('\0'))
      return false
  }
  return true
}

function parseManifest(text: string, path: string): Map<string, ManifestEntry> {
  const bad = (why: string) =>
    new ManifestError(
      'internal',
      `${path} is not a dagsync store manifest (${why}): restore it from a backup, or remove it and it is rebuilt from the database`,
    )
  let data: { version?: unknown; stores?: unknown }
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw bad((err as Error).message)
  }
  if (data?.version !== 1 || data.stores === null || typeof data.stores !== 'object') throw bad('no version 1 stores')
  const entries = new Map<string, ManifestEntry>()
  for (const [id, value] of Object.entries(data.stores as Record<string, unknown>)) {
    const { role, names, seq } = (value ?? {}) as Partial<ManifestEntry>
    if (
      (role !== 'writer' && role !== 'replica' && role !== 'sparse') ||
      !Array.isArray(names) ||
      !names.every((n) => typeof n === 'string') ||
      !Number.isSafeInteger(seq) ||
      (seq as number) < 0
    )
      throw bad(`the entry of ${id}`)
    entries.set(id, { role, names, seq: seq as number })
  }
  return entries
}

/** What to do about a store whose head is lost, older than it was, or (`unreadable`) damaged. */
function fixHead(role: StoreRole, id: string, unreadable: boolean): string {
  if (role === 'writer')
    return 'restore the repo from a backup; the store is not served and writes to it are refused until then, since a new commit would fork its history'
  // A follower starts from the head it has; one it cannot read must be dropped first.
  if (unreadable)
    return `unfollow it and follow it again (\`dagsync store unfollow ${id}\`, then \`dagsync store follow ${id}\`) to fetch it from peers`
  return 'the daemon syncs it again from peers'
}

/** How a store is called in a message: its first name and id, or its id. */
function label(id: string, names: readonly string[]): string {
  return names.length === 0 ? `store ${id}` : `store ${names[0]} (${id})`
}

/**
 * Compares the manifest with what the database holds. Returns what is wrong (each with what to
 * do), and the entries to keep: those of the manifest, with what the database adds (stores and
 * names it does not list yet, newer commits, a change of role). Nothing is ever dropped here:
 * only an unfollow forgets a store.
 */
export function compareManifest(
  manifest: ReadonlyMap<string, ManifestEntry>,
  state: RepoState,
): { problems: StoreProblem[]; entries: Map<string, ManifestEntry> } {
  const problems: StoreProblem[] = []
  const entries = new Map(manifest)
  const namesOf = (id: string) => [...state.names].filter(([, named]) => named === id).map(([name]) => name)

  for (const [id, role] of state.roles) {
    const known = manifest.get(id)
    const names = [...new Set([...(known?.names ?? []), ...namesOf(id)])]
    const head = state.heads.get(id)
    const seq = Math.max(known?.seq ?? 0, typeof head === 'number' ? head : 0)
    entries.set(id, { role, names, seq })
  }

  for (const [id, entry] of manifest) {
    const problem = (kind: StoreProblem['kind'], message: string) =>
      problems.push({ store: id, names: entry.names, role: entry.role, kind, message })
    const name = label(id, entry.names)
    const role = state.roles.get(id)
    if (role === undefined) {
      problem(
        'store-missing',
        entry.role === 'writer'
          ? `${name}, written here, is gone from the repo's database with its writer key: restore the repo from a backup (nothing else can write the store)`
          : `${name}, followed here, is gone from the repo's database: follow it again (\`dagsync store follow ${id}\`) to fetch it from peers`,
      )
      continue
    }
    for (const lost of entry.names.filter((n) => state.names.get(n) !== id))
      problem(
        'name-missing',
        `the name "${lost}" of store ${id} is gone from the repo's database: give it again with \`dagsync store name ${id} ${lost}\``,
      )
    if (role === 'sparse') continue
    const head = state.heads.get(id)
    if (head === 'missing' && entry.seq > 0)
      problem(
        'head-missing',
        `${name} had commit ${entry.seq} here, but its head is gone from the database: ${fixHead(role, id, false)}`,
      )
    else if (typeof head === 'number' && head < entry.seq)
      problem(
        'head-behind',
        `${name} is at commit ${head} here, but it held commit ${entry.seq}: ${fixHead(role, id, false)}`,
      )
    else if (typeof head === 'object')
      problem('head-unreadable', `${name}: its head cannot be read (${head.unreadable}): ${fixHead(role, id, true)}`)
  }
  // A store the manifest did not know yet can still have a head that cannot be read.
  for (const [id, head] of state.heads) {
    if (manifest.has(id) || typeof head !== 'object') continue
    const role = state.roles.get(id) ?? 'replica'
    problems.push({
      store: id,
      names: namesOf(id),
      role,
      kind: 'head-unreadable',
      message: `${label(id, namesOf(id))}: its head cannot be read (${head.unreadable}): ${fixHead(role, id, true)}`,
    })
  }
  return { problems, entries }
}
