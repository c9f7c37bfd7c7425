#!/usr/bin/env node
// Runs a command on dagsync's own runtime: `node tools/run.mjs <command> [args...]`.
//
// helia 7 and libp2p 3 need Node.js 24 (22 at the very least), while a fresh machine may only
// have an older Node.js and npm. This script therefore must itself run on Node.js 20 with no
// dependencies. It installs the Node.js binary and pnpm pinned in tools/runtime (from the npm
// registry), installs the workspace with the lockfile, then runs the command with that Node.js
// and pnpm first on PATH, so every `node` the command starts is the pinned one.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const runtimeDir = join(root, 'tools', 'runtime')
const runtimeBin = join(runtimeDir, 'node_modules', '.bin')
const minimumNodeMajor = 22

function log(message) {
  process.stderr.write(`[dagsync] ${message}\n`)
}

function fail(message) {
  log(message)
  process.exit(1)
}

function digest(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** Runs `install` unless `stampFile` records the digest of `lockFile` from an earlier run. */
function ensureInstalled(lockFile, stampFile, install) {
  const want = digest(lockFile)
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want) return
  install()
  writeFileSync(stampFile, want)
}

function run(command, args, env) {
  // Install output goes to stderr, so the command's stdout (JSON, a CAR) stays clean.
  const result = spawnSync(command, args, { cwd: root, env, stdio: ['inherit', 2, 2] })
  if (result.error) fail(`could not run ${command}: ${result.error.message}`)
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`)
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
ensureInstalled(join(runtimeDir, 'package-lock.json'), join(runtimeDir, 'node_modules', '.dagsync-stamp'), () => {
  log('installing the pinned Node.js and pnpm into tools/runtime (once)')
  run(npm, ['ci', '--prefix', runtimeDir, '--no-audit', '--no-fund', '--loglevel=error'], {
    ...process.env,
    npm_config_update_notifier: 'false',
  })
})

const env = {
  ...process.env,
  // No update notices from the package managers the command runs (also in .npmrc, for npm itself).
  npm_config_update_notifier: 'false',
  PATH: `${runtimeBin}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}`,
}
// No Node.js package exists for this platform: fall back to the system's Node.js if it is new enough.
if (!existsSync(join(runtimeBin, 'node'))) {
  const major = Number(process.versions.node.split('.')[0])
  if (major < minimumNodeMajor) {
    fail(`no Node.js package for ${process.platform}-${process.arch}; install Node.js ${minimumNodeMajor}+ yourself`)
  }
}

ensureInstalled(join(root, 'pnpm-lock.yaml'), join(root, 'node_modules', '.dagsync-stamp'), () => {
  log('installing the workspace with pnpm (frozen lockfile)')
  run('pnpm', ['install', '--frozen-lockfile', '--reporter=append-only'], env)
})

const [command, ...args] = process.argv.slice(2)
if (command === undefined) fail('usage: node tools/run.mjs <command> [args...]')
const child = spawn(command, args, { cwd: process.cwd(), env, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal))
}
child.on('error', (err) => fail(`could not run ${command}: ${err.message}`))
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128)
})
