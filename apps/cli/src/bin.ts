#!/usr/bin/env node
// The `dagsync` executable. No top-level await: the built CLI is CommonJS (tools/build-cli.mjs).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string
}
// A reader that stops early (`dagsync log demo | head -1`) closes the pipe: that is done, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(0)
})
const argv = process.argv.slice(2)
// `--version` needs none of the commands: answered before they load (what scripts call most).
if (argv.length === 1 && ['--version', '-v', 'version'].includes(argv[0] as string)) {
  process.stdout.write(`dagsync version ${version}\n`)
} else {
  void import('./cli.ts')
    .then(({ run }) => run(argv, version))
    .then((code) => {
      process.exitCode = code
    })
}
