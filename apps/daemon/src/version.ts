// The daemon's version, from its package.json (what `dagsync id` and /health report).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

export const VERSION: string = JSON.parse(
  await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8').catch(() => '{"version":"0.0.0"}'),
).version
