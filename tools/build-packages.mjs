// Builds the publishable packages (@dagsync/tree, store, peer, browser) and packs them. Each is
// compiled by tsc (packages/<name>/tsconfig.build.json) into its dist/: ESM JavaScript with source
// maps, and .d.ts files with declaration maps; rewriteRelativeImportExtensions turns the sources'
// './x.ts' imports into './x.js'. Development keeps running the TypeScript sources: only a
// tarball points at dist/ (each package.json's publishConfig replaces `exports` and `imports` at
// pack time, and `pnpm pack` turns workspace:* into versions).
//   node tools/build-packages.mjs                build every dist/
//   node tools/build-packages.mjs --pack <dir>   build, then pack each into <dir> (.tgz)
import { execFile } from 'node:child_process'
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

const root = new URL('..', import.meta.url).pathname

/** The published packages. The daemon, the CLI and the web app are applications, not published. */
export const PUBLISHED = ['tree', 'store', 'peer', 'browser']

/** The root's licence files, copied into each package when it is packed (each lists them in `files`). */
const LICENSES = ['LICENSE', 'LICENSE-APACHE', 'LICENSE-MIT']

/** Runs a command to completion; rejects with its output when it fails. */
async function run(command, args, cwd) {
  try {
    await execFileAsync(command, args, { cwd })
  } catch (err) {
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${err.stdout}${err.stderr}`)
  }
}

/** Compiles every published package into its dist/, from scratch (all at once: tsc mostly waits). */
export async function buildPackages() {
  await Promise.all(
    PUBLISHED.map(async (name) => {
      const dir = join(root, 'packages', name)
      await rm(join(dir, 'dist'), { recursive: true, force: true })
      await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.build.json')], dir)
    }),
  )
}

/**
 * Builds, then packs every published package into `into`; resolves to the tarballs' paths by
 * package name (`@dagsync/tree` → `<into>/dagsync-tree-0.1.0.tgz`).
 */
export async function packPackages(into) {
  await buildPackages()
  await mkdir(into, { recursive: true })
  const packed = await Promise.all(
    PUBLISHED.map(async (name) => {
      const dir = join(root, 'packages', name)
      for (const file of LICENSES) await copyFile(join(root, file), join(dir, file))
      const { name: fullName, version } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
      await run('pnpm', ['pack', '--pack-destination', resolve(into)], dir)
      return [fullName, join(resolve(into), `${fullName.slice(1).replace('/', '-')}-${version}.tgz`)]
    }),
  )
  return Object.fromEntries(packed)
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const at = process.argv.indexOf('--pack')
  if (at === -1) {
    await buildPackages()
    process.stderr.write(`[dagsync] built ${PUBLISHED.map((name) => `packages/${name}/dist`).join(', ')}\n`)
  } else {
    const into = process.argv[at + 1]
    if (into === undefined) {
      process.stderr.write('usage: node tools/build-packages.mjs --pack <dir>\n')
      process.exit(2)
    }
    for (const tarball of Object.values(await packPackages(into))) process.stdout.write(`${tarball}\n`)
  }
}
