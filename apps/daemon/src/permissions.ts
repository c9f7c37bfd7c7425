// A repo is readable by its owner only: its database holds the writers' private keys and the
// node's own key in the clear, and api-token lets anyone who reads it call the API. Any local
// user who could read them could sign heads for the repo's stores. So the repo directory and every
// directory in it are 0700 and every file 0600: files created while the repo is open get that from
// the umask (LevelDB creates files all the time, on its own threads), and a repo made before (or
// by other tools) is fixed when it is opened.
import { chmod, lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

export const PRIVATE_DIR = 0o700
export const PRIVATE_FILE = 0o600

/** Permission bits only (lstat's mode also has the file type). */
function permissions(mode: number): number {
  return mode & 0o777
}

/**
 * Makes `root` and everything under it private: directories 0700, files 0600. Symlinks are left
 * alone (and not followed). Resolves to the paths whose mode it changed. Does nothing on Windows,
 * which has no such modes.
 */
export async function makePrivate(root: string): Promise<string[]> {
  if (process.platform === 'win32') return []
  const changed: string[] = []
  const visit = async (path: string): Promise<void> => {
    const stat = await lstat(path)
    if (stat.isSymbolicLink()) return
    const wanted = stat.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE
    if (permissions(stat.mode) !== wanted) {
      await chmod(path, wanted)
      changed.push(path)
    }
    if (stat.isDirectory()) for (const entry of await readdir(path)) await visit(join(path, entry))
  }
  await visit(root)
  return changed
}

let holders = 0
let outerUmask = 0

/**
 * Sets the process's umask to 077, so that what it creates is private, until the function it
 * returns is called. Counted: with several repos open in one process, the old umask comes back
 * when the last one closes.
 */
export function privateUmask(): () => void {
  if (process.platform === 'win32') return () => {}
  if (holders++ === 0) outerUmask = process.umask(0o077)
  let released = false
  return () => {
    if (released) return
    released = true
    if (--holders === 0) process.umask(outerUmask)
  }
}
