// The project's whole check: types, lint and format, then every test in one node:test run.
//   node tools/test.mjs              everything
//   node tools/test.mjs --no-tests   types and lint only
//   node tools/test.mjs <paths...>   types and lint, then only the tests under these paths
// Run it through `npm test`, which first installs the pinned runtime and the workspace.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const noTests = args.includes('--no-tests')
const paths = args.filter((a) => !a.startsWith('--'))

function step(title, command, commandArgs) {
  process.stdout.write(`\n== ${title}\n`)
  const result = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' })
  if (result.status !== 0) {
    process.stdout.write(`\n${title} failed\n0 passed, 1 failed\n`)
    process.exit(result.status ?? 1)
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name)

// Packages that must run in browsers are also checked without Node's types.
const projects = ['tsconfig.json']
for (const dir of readdirSync(join(root, 'packages'))) {
  if (existsSync(join(root, 'packages', dir, 'tsconfig.json'))) projects.push(`packages/${dir}/tsconfig.json`)
}
for (const project of projects) step(`typecheck ${project}`, bin('tsc'), ['-p', project])
step('lint and format (biome)', bin('biome'), ['ci', '--reporter=summary', '.'])
if (noTests) process.exit(0)

// The browser tests drive Debian's Chromium; a fresh machine gets it from apt (as root, or with sudo).
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
  process.stdout.write('\n== installing Chromium (apt-get install chromium)\n')
  const aptGet = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', '-n', 'apt-get']
  const apt = (args) =>
    spawnSync(aptGet[0], [...aptGet.slice(1), ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    })
  apt(['update', '-qq'])
  apt(['install', '-y', '-qq', 'chromium'])
}

const patterns =
  paths.length > 0
    ? paths.map((p) => `${p.replace(/\/$/, '')}/**/*.test.ts`)
    : ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'test/**/*.test.ts']
// The ./dagsync script, which some tests run as a user would, runs the built CLI when it is fresh.
const { buildCli } = await import('./build-cli.mjs')
if (await buildCli()) process.stdout.write('\n== built the CLI (apps/cli/dist/dagsync.cjs)\n')

process.stdout.write('\n== tests\n')
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./tools/summary-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...patterns,
  ],
  { cwd: root, stdio: 'inherit' },
)
process.exit(result.status ?? 1)
