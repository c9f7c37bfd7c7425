// `npm start`: builds the web app and the CLI (tools/build-cli.mjs) when their sources changed
// since the last build, then runs the daemon (`dagsync daemon`, with any extra arguments) from the
// built CLI. Run through tools/run.mjs.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { BUNDLE, buildCli } from './build-cli.mjs'

const root = new URL('..', import.meta.url).pathname
const web = join(root, 'apps', 'web')
const built = join(web, 'dist', 'index.html')

/** The newest modification time of the files under `path`. */
function newest(path) {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

const sources = [
  join(web, 'src'),
  join(web, 'public'),
  join(web, 'index.html'),
  join(web, 'vite.config.ts'),
  join(web, 'build'),
  ...['tree', 'store', 'peer', 'browser'].map((p) => join(root, 'packages', p, 'src')),
]
if (!existsSync(built) || Math.max(...sources.map(newest)) > statSync(built).mtimeMs) {
  process.stderr.write('[dagsync] building the web app (apps/web)\n')
  const result = spawnSync(join(web, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: web,
    stdio: ['ignore', 2, 2],
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

if (await buildCli()) process.stderr.write('[dagsync] built the CLI (apps/cli/dist/dagsync.cjs)\n')

const daemon = spawn(process.execPath, [BUNDLE, 'daemon', ...process.argv.slice(2)], {
  stdio: 'inherit',
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => daemon.kill(signal))
daemon.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128)
})
