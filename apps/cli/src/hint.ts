// How to write a `dagsync` command in a hint so it runs as printed, in another terminal: `dagsync`
// when that name on the PATH is this CLI, else this checkout's `./dagsync` script by its path; and
// `--repo <path>` when the repo is not the default one (a DAGSYNC_PATH set for this process may not
// be set in that terminal).
import { accessSync, constants, realpathSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, isAbsolute, join, relative, resolve } from 'node:path'

/** The checkout's launcher script (the same depth from apps/cli/src and from apps/cli/dist). */
const SCRIPT = resolve(import.meta.dirname, '..', '..', '..', 'dagsync')

function real(path: string): string | undefined {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

/** Whether `dagsync` on the PATH is this CLI: the checkout's script, or the file this process runs. */
function onPath(): boolean {
  const ours = new Set([real(SCRIPT), process.argv[1] === undefined ? undefined : real(process.argv[1])])
  ours.delete(undefined)
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'dagsync')
    try {
      accessSync(candidate, constants.X_OK)
    } catch {
      continue
    }
    return ours.has(real(candidate))
  }
  return false
}

/** A word for sh: quoted unless it is plain. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/** The start of a command line for a hint: `dagsync`, or the script's path; then `--repo` if needed. */
export function hintCommand(repo: string, cwd = process.cwd()): string {
  let command = 'dagsync'
  if (!onPath()) {
    const fromHere = relative(cwd, SCRIPT)
    command = fromHere.startsWith('..') || isAbsolute(fromHere) ? SCRIPT : `./${fromHere}`
  }
  const defaultRepo = resolve(join(homedir(), '.dagsync'))
  return resolve(repo) === defaultRepo ? shellWord(command) : `${shellWord(command)} --repo ${shellWord(resolve(repo))}`
}
