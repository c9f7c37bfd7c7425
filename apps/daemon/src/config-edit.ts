// `dagsync config show|get|set`: reading and changing config.json by dotted key (`gc.keepLast`,
// `writers.demo`), as Kubo's `ipfs config` does. Every change is checked by the same validation
// as a start (readConfig), so a key that is not a setting or a value of the wrong kind is refused
// and the file is left as it was; the file is replaced whole (written aside, then renamed).
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiError } from './api.ts'
import { type DaemonConfig, DEFAULT_CONFIG, readConfig } from './config.ts'
import { PRIVATE_FILE } from './permissions.ts'
import { loadConfig, readConfigFile } from './repo.ts'

/** Settings whose keys are names the user chooses (stores, services): a missing one is not found, not unknown. */
const MAPS = ['writers', 'pinningServices']

function segments(key: string): string[] {
  const parts = key.split('.')
  if (key === '' || parts.some((p) => p === ''))
    throw new ApiError('bad-request', `"${key}" is not a config key (keys look like api or gc.keepLast)`)
  return parts
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A setting's value, defaults filled in. */
export async function getSetting(repo: string, key: string): Promise<unknown> {
  const parts = segments(key)
  let value: unknown = await loadConfig(repo)
  for (const [i, part] of parts.entries()) {
    if (!isObject(value) || !Object.hasOwn(value, part)) {
      const parent = parts.slice(0, i).join('.')
      if (i === 1 && MAPS.includes(parts[0] as string))
        throw new ApiError('not-found', `config.json has no ${key} (see \`dagsync config show\`)`)
      const known = isObject(value) ? Object.keys(value).join(', ') : `none: ${parent} is not an object`
      throw new ApiError(
        'bad-request',
        `"${key}" is not a setting (known${parent === '' ? '' : ` in ${parent}`}: ${known})`,
      )
    }
    value = value[part]
  }
  return value
}

/** The whole config with every default, pinning services' tokens hidden (`get` shows one). */
export async function showConfig(repo: string): Promise<DaemonConfig> {
  const config = await loadConfig(repo)
  const services = Object.fromEntries(
    Object.entries(config.pinningServices).map(([name, s]) => [
      name,
      { ...s, token: '(hidden: dagsync config get pinningServices.<name>.token)' },
    ]),
  )
  return { ...config, pinningServices: services }
}

/**
 * Sets `key` to `value` in the repo's config.json after checking the whole result as a start
 * would. Resolves with the value as the config now holds it.
 */
export async function setSetting(repo: string, key: string, value: unknown): Promise<unknown> {
  const parts = segments(key)
  const file = join(repo, 'config.json')
  const raw = await readConfigFile(repo)
  // Parents a key needs are made, from the defaults where there are some (gc), else empty.
  let target: Record<string, unknown> = raw
  let defaults: unknown = DEFAULT_CONFIG
  for (const part of parts.slice(0, -1)) {
    defaults = isObject(defaults) ? defaults[part] : undefined
    const next = target[part]
    if (next === undefined) target[part] = isObject(defaults) ? structuredClone(defaults) : {}
    else if (!isObject(next)) throw new ApiError('bad-request', `"${key}": ${part} is not an object`)
    target = target[part] as Record<string, unknown>
  }
  target[parts.at(-1) as string] = value
  readConfig(raw, file) // refuses unknown keys and bad values, naming them
  const partial = `${file}.partial`
  await writeFile(partial, `${JSON.stringify(raw, null, 2)}\n`, { mode: PRIVATE_FILE })
  await rename(partial, file)
  return getSetting(repo, key)
}
