// What the CLI reads of a repo before deciding how to reach it, kept apart from the database
// code so a command that goes to the running daemon loads none of it: the repo's path, the lock
// (which process holds the repo, and its API's URL) and the API token.
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The repo path: `--repo`, else `DAGSYNC_PATH`, else `~/.dagsync`. */
export function repoPath(option?: string): string {
  return resolve(option ?? process.env.DAGSYNC_PATH ?? join(homedir(), '.dagsync'))
}

export interface LockInfo {
  readonly pid: number
  /** What holds it: `daemon`, or the CLI command working on the repo directly. */
  readonly command: string
  /** Milliseconds since the Unix epoch. */
  readonly since: number
  /** The daemon's API URL, once it listens. */
  readonly api?: string
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The lock's holder; undefined if there is no lock, or one a process left half written (it died). */
export async function readLock(file: string): Promise<LockInfo | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const info = JSON.parse(text) as LockInfo
    return typeof info.pid === 'number' ? info : undefined
  } catch {
    return undefined
  }
}

/** The process holding the repo, if one is alive (a lock left by a dead process does not count). */
export async function repoHolder(path: string): Promise<LockInfo | undefined> {
  const info = await readLock(join(path, 'repo.lock'))
  return info !== undefined && pidAlive(info.pid) ? info : undefined
}

export async function readToken(path: string): Promise<string> {
  return (await readFile(join(path, 'api-token'), 'utf8')).trim()
}
