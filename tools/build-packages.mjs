// Builds the publishable packages (@dagsync/tree, store, peer, browser) and packs them. Each is
// compiled by tsc (packages/<name>/tsconfig.build.json) into its dist/: ESM JavaScript with source
// maps, and .d.ts files with declaration maps; rewriteRelativeImportExtensions turns the sources'
// './x.ts' imports into './x.js'. Development keeps running the TypeScript sources: only a
// tarball points at dist/ (each package.json's publishConfig replaces `exports` and `imports` at
// pack time, and `pnpm pack` turns workspace:* into versions).
//   node tools/build-packages.mjs                build every dist/
//   node tools/build-packages.mjs --pack <dir>   build, then pack each into <dir> (.tgz)
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = new URL('..', import.meta.url).pathname

/** In dependency order. @dagsync/daemon and the CLI are applications, not published. */
export const PUBLISHED = ['tree', 'store', 'peer', 'browser']

/** The root's licence files, copied into each package when it is packed (npm keeps LICENSE* files). */
const LICENSES = ['LICENSE', 'LICENSE-APACHE', 'LICENSE-MIT']

/** Compiles every published package into its dist/, from scratch. */
export function buildPackages() {
  for (const name of PUBLISHED) {
    const dir = join(root, 'packages', name)
    rmSync(join(dir, 'dist'), { recursive: true, force: true })
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.build.json')], {
      stdio: 'inherit',
    })
  }
}

/**
 * Builds, then packs every published package into `into`; resolves to the tarballs' paths by
 * package name (`@dagsync/tree` → `<into>/dagsync-tree-0.1.0.tgz`).
 */
export function packPackages(into) {
  buildPackages()
  mkdirSync(into, { recursive: true })
  const tarballs = {}
  for (const name of PUBLISHED) {
    const dir = join(root, 'packages', name)
    for (const file of LICENSES) copyFileSync(join(root, file), join(dir, file))
    const { name: fullName, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    execFileSync('pnpm', ['pack', '--pack-destination', resolve(into)], { cwd: dir, stdio: 'ignore' })
    tarballs[fullName] = join(resolve(into), `${fullName.slice(1).replace('/', '-')}-${version}.tgz`)
  }
  return tarballs
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const at = process.argv.indexOf('--pack')
  if (at === -1) {
    buildPackages()
    process.stderr.write(`[dagsync] built ${PUBLISHED.map((name) => `packages/${name}/dist`).join(', ')}\n`)
  } else {
    const into = process.argv[at + 1]
    if (into === undefined) {
      process.stderr.write('usage: node tools/build-packages.mjs --pack <dir>\n')
      process.exit(2)
    }
    for (const tarball of Object.values(packPackages(into))) process.stdout.write(`${tarball}\n`)
  }
}
