#!/usr/bin/env node
// The `dagsync` executable.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { run } from './cli.ts'

const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
  version: string
}
process.exitCode = await run(process.argv.slice(2), version)
