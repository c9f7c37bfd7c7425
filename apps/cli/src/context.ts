// How a command reaches the repo: through the running daemon's HTTP API when one holds the repo,
// else on the repo directly (taking its lock for the length of the command). Heavy modules (the
// node, the database) load only on the direct path, so commands against a daemon start fast.
import { createReadStream } from 'node:fs'
import { access, constants } from 'node:fs/promises'
import type { Api } from '@dagsync/daemon/client'
import { CID } from 'multiformats/cid'
import { nodePost } from './http-post.ts'
import { plural, UsageError } from './output.ts'

/** Options every command accepts (set on the program, before or after the command). */
export interface GlobalOptions {
  readonly repo?: string
  readonly api?: string
  readonly json?: boolean
  readonly quiet?: boolean
}

export interface Connection {
  readonly api: Api
  /** `daemon`: through the running daemon's API; `direct`: on the repo, no network. */
  readonly mode: 'daemon' | 'direct'
  readonly repo: string
  /** Closes the API and, in direct mode, the repo (releasing its lock). */
  close(): Promise<void>
}

/**
 * The daemon's API: the one `--api` (or `DAGSYNC_API`) names, else the one running on the repo (its
 * lock says where), else undefined. `source` says where it came from, for messages.
 */
export async function daemonApi(options: GlobalOptions): Promise<{ url: string; source?: string } | undefined> {
  const { repoPath, repoHolder } = await import('@dagsync/daemon/repo-files')
  const { apiUrl } = await import('@dagsync/daemon/client')
  const explicit = options.api ?? process.env.DAGSYNC_API
  if (explicit !== undefined) {
    const source = options.api === undefined ? 'DAGSYNC_API' : '--api'
    const url = apiUrl(explicit)
    if (url === undefined)
      throw new UsageError(
        `${source} "${explicit}" is not an API address: give a URL, host:port or a multiaddr (/ip4/127.0.0.1/tcp/5011)`,
      )
    return { url, source }
  }
  const holder = await repoHolder(repoPath(options.repo))
  return holder?.api === undefined ? undefined : { url: holder.api }
}

/**
 * Opens the API for `command`: `--api` (or `DAGSYNC_API`) names a daemon explicitly; otherwise the
 * daemon that holds the repo's lock, if any; otherwise the repo itself.
 */
export async function connect(options: GlobalOptions, command: string): Promise<Connection> {
  const { repoPath, readToken } = await import('@dagsync/daemon/repo-files')
  const { HttpClient } = await import('@dagsync/daemon/client')
  const repo = repoPath(options.repo)
  const daemon = await daemonApi(options)
  if (daemon !== undefined) {
    const token = process.env.DAGSYNC_API_TOKEN ?? (await readToken(repo).catch(noToken))
    const api = new HttpClient({ ...daemon, post: nodePost, ...(token === undefined ? {} : { token }) })
    return { api, mode: 'daemon', repo, close: () => api.close() }
  }
  const { Repo } = await import('@dagsync/daemon/repo')
  const { LocalApi } = await import('@dagsync/daemon/local-api')
  const opened = await Repo.open(repo, { command })
  if (opened.madePrivate.length > 0)
    process.stderr.write(
      `dagsync: warning: ${plural(opened.madePrivate.length, 'file or directory', 'files and directories')} of the repo ${repo} ${opened.madePrivate.length === 1 ? 'was' : 'were'} readable by other users; they are private now (0700/0600)\n`,
    )
  for (const warning of opened.warnings) process.stderr.write(`dagsync: warning: ${warning}\n`)
  const api = new LocalApi({ repo: opened })
  const close = async () => {
    await api.close()
    await opened.close()
  }
  return { api, mode: 'direct', repo, close }
}

/** The repo's path (`--repo`, `DAGSYNC_PATH`, `~/.dagsync`), for commands that read its files directly. */
export async function repoOf(options: GlobalOptions): Promise<string> {
  const { repoPath } = await import('@dagsync/daemon/repo-files')
  return repoPath(options.repo)
}

/** No token file is no token (calls that need one say so); a token file that cannot be read is an error. */
function noToken(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined
  throw new Error(`cannot read the API token: ${err.message}`)
}

/** Runs `fn` with the API and closes it afterwards, whatever happens. */
export async function withApi<T>(
  options: GlobalOptions,
  command: string,
  fn: (api: Api, connection: Connection) => Promise<T>,
): Promise<T> {
  const connection = await connect(options, command)
  try {
    return await fn(connection.api, connection)
  } finally {
    await connection.close()
  }
}

/** A version reference: a commit seq (`12`) or a commit CID. */
export function parseVersion(value: string, what = 'version'): number | CID {
  if (/^\d+$/.test(value)) return Number(value)
  try {
    return CID.parse(value)
  } catch {
    throw new UsageError(`${what} "${value}" is neither a commit number nor a CID`)
  }
}

/** A path inside a value, `a.b.0`: numeric segments index lists. */
export function parsePath(value: string | undefined): (string | number)[] | undefined {
  if (value === undefined || value === '') return undefined
  return value.split('.').map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment))
}

export function parsePositiveInt(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${what} must be a whole number of at least 1`)
  return Number(value)
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** A moment: an ISO date, or a duration before now (`30m`, `12h`, `7d`). Returns ms since the epoch. */
export function parseSince(value: string, now = Date.now()): number {
  const duration = /^(\d+)([smhdw])$/.exec(value)
  if (duration !== null) return now - Number(duration[1]) * (UNITS[duration[2] as string] as number)
  const time = Date.parse(value)
  if (Number.isNaN(time)) throw new UsageError(`"${value}" is neither a date (2026-11-01) nor a duration (7d, 12h)`)
  return time
}

export async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

/** The bytes of a file, or of stdin for `-`; a file that cannot be read is a usage error before anything starts. */
export async function fileSource(path: string): Promise<AsyncIterable<Uint8Array>> {
  if (path === '-') return process.stdin as AsyncIterable<Uint8Array>
  await access(path, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  })
  return createReadStream(path) as AsyncIterable<Uint8Array>
}
