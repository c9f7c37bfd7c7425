// Builds the CLI as one JavaScript file (CommonJS), apps/cli/dist/dagsync.cjs, when anything it is built
// from is newer than it (or with --force). Loading the TypeScript sources costs 0.7 s and more on
// every call; the bundle starts in a fraction of that. It holds the CLI, commander, the HTTP
// client and what they import (import checks ops against @dagsync/store's bulk limits, so the
// store and tree sources are in it too); the daemon, LevelDB and the libp2p stack are left out
// and loaded (from the workspace's sources) only by the commands that need them: `daemon`,
// commands run with no daemon on the repo, `config`.
//   node tools/build-cli.mjs [--force]
// tools/start.mjs and tools/test.mjs call `buildCli()`; the ./dagsync script runs the bundle when
// it is fresh, and the sources otherwise.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
export const BUNDLE = join(root, 'apps', 'cli', 'dist', 'dagsync.cjs')

/** What the bundle is built from: the ./dagsync script checks the same list (keep them in step). */
export const SOURCES = [
  'apps/cli/src',
  'apps/daemon/src',
  'packages/store/src',
  'packages/tree/src',
  'apps/cli/package.json',
  'apps/daemon/package.json',
  'pnpm-lock.yaml',
  'tools/build-cli.mjs',
].map((path) => join(root, path))

/** Loaded at run time from the workspace, never bundled: the daemon and everything under it. */
const HEAVY = /^@dagsync\/daemon(\/(repo|local-api|config-edit))?$/

function newest(path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

export function cliStale() {
  return !existsSync(BUNDLE) || Math.max(...SOURCES.map(newest)) > statSync(BUNDLE).mtimeMs
}

/**
 * Builds the bundle if it is stale (or `force`) and resolves to whether it built. `outfile`
 * builds elsewhere, always (tests); `metafile` resolves to esbuild's record of the inputs instead.
 */
export async function buildCli({ force = false, outfile = BUNDLE, metafile = false } = {}) {
  if (outfile === BUNDLE && !force && !cliStale()) return false
  const require = createRequire(join(root, 'apps', 'cli', 'package.json'))
  const esbuild = await import(require.resolve('esbuild'))
  mkdirSync(dirname(outfile), { recursive: true })
  const result = await esbuild.build({
    entryPoints: [join(root, 'apps', 'cli', 'src', 'bin.ts')],
    outfile,
    metafile,
    bundle: true,
    platform: 'node',
    // CommonJS: Node loads it without the ESM loader's work (a facade for every built-in module it
    // imports), a third of what `--version` cost as ESM. Imports of the daemon stay import().
    format: 'cjs',
    define: { 'import.meta.dirname': '__dirname' },
    target: 'node24',
    // Less to parse at every start; names are kept so errors still say what failed.
    minify: true,
    keepNames: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'heavy-external',
        setup(build) {
          build.onResolve({ filter: HEAVY }, (args) => ({ path: args.path, external: true }))
        },
      },
    ],
  })
  return metafile ? result.metafile : true
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const built = await buildCli({ force: process.argv.includes('--force') })
  process.stderr.write(built ? `[dagsync] built ${BUNDLE}\n` : '[dagsync] the CLI bundle is up to date\n')
}
