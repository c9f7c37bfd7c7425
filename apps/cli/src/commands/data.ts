// get, put, del, keys, log, diff: reading and writing a store's keys.
import type { Api, CommitInfo, KeysQuery, WriteResult } from '@dagsync/daemon/client'
import { decodeWire, encodeWire, MAX_JSON_BODY_BYTES } from '@dagsync/daemon/client'
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import {
  fileSource,
  type GlobalOptions,
  parsePath,
  parsePositiveInt,
  parseVersion,
  readStdin,
  withApi,
} from '../context.ts'
import { formatBytes, formatTime, pretty, print, printJson, showKey, table, UsageError, writeBytes } from '../output.ts'

const VALUES_HELP = `
Values are JSON (DAG-JSON: {"/": "bafy..."} is a CID link, {"/": {"bytes": "<base64>"}} is bytes).
A plain string needs JSON quotes ('"hello"') or --string. Binary values of any size: --file.`

function printWrite(result: WriteResult, options: GlobalOptions, what: string): void {
  if (options.json === true) printJson(result)
  else if (options.quiet !== true)
    print(result.commit === null ? `${what}: no change` : `${what}: commit ${result.commit.seq} ${result.commit.cid}`)
}

/**
 * Refuses a JSON put whose request would be over the API's limit, before it is parsed or sent:
 * the same limit applies with or without a daemon, so a value written here is one the API serves.
 */
function checkJsonSize(bytes: number): void {
  if (bytes > MAX_JSON_BODY_BYTES)
    throw new UsageError(
      `the value is over ${MAX_JSON_BODY_BYTES / 1024} KiB, the limit for JSON values: store it as bytes with --file ` +
        '(`dagsync put <store> <key> --file <path>`)',
    )
}

function parseValue(text: string, asString: boolean): unknown {
  if (asString) return text
  try {
    return decodeWire(text)
  } catch {
    throw new UsageError(
      `the value is not JSON: ${JSON.stringify(text.slice(0, 40))} (for a plain string, quote it or pass --string)`,
    )
  }
}

export function dataCommands(program: Command): void {
  examples(
    program
      .command('get <store> <key>')
      .description("Print a key's value (binary values as raw bytes)")
      .option('-p, --path <path>', 'only this part of the value: a.b.0')
      .option('--at <version>', 'read a past version: a commit number or commit CID')
      .option('-o, --output <file>', 'write a binary value to this file instead of stdout')
      .action(async (store: string, key: string, ...args) => {
        const options = optionsOf<{ path?: string; at?: string; output?: string }>(args)
        const path = parsePath(options.path)
        const at = options.at === undefined ? undefined : parseVersion(options.at, '--at')
        await withApi(options, 'get', async (api) => {
          const result = await api.get({
            store,
            key,
            ...(path === undefined ? {} : { path }),
            ...(at === undefined ? {} : { at }),
          })
          if (result.info.type === 'binary') {
            if (options.json === true) return printJson({ key, info: result.info })
            const bytes = await api.getBytes({ store, key, ...(at === undefined ? {} : { at }) })
            const size = await writeBytes(bytes, options.output)
            if (options.output !== undefined) process.stderr.write(`wrote ${formatBytes(size)} to ${options.output}\n`)
            return
          }
          if (options.json === true) return printJson({ key, value: result.value, info: result.info })
          print(pretty(result.value))
        })
      }),
    [
      'dagsync get demo todo/1',
      'dagsync get demo todo/1 --path title',
      'dagsync get demo counter --at 1',
      'dagsync get files logo.png -o logo.png',
    ],
  )

  examples(
    program
      .command('put <store> <key> [value...]')
      .description(
        'Set a key: the value from the argument, from stdin, or (binary) from a file; or several keys in one commit: put <store> k1 v1 k2 v2 ...',
      )
      .option('-s, --string', 'store the value as a string, not JSON')
      .option('-p, --path <path>', 'set only this part of the value (a.b.0), creating maps on the way')
      .option('-f, --file <file>', 'store the bytes of this file (- for stdin) as a binary value')
      .addHelpText('after', VALUES_HELP)
      .action(async (store: string, key: string, values: string[], ...args) => {
        const options = optionsOf<{ string?: boolean; path?: string; file?: string }>(args)
        if (values.length > 1) return putMany(store, [key, ...values], options)
        const text = values[0]
        if (options.file !== undefined) {
          if (text !== undefined) throw new UsageError('give a value or --file, not both')
          if (options.path !== undefined) throw new UsageError('--path cannot be used with --file')
          const bytes = await fileSource(options.file)
          await withApi(options, 'put', async (api) =>
            printWrite(await api.putBytes({ store, key }, bytes), options, `put ${key}`),
          )
          return
        }
        const raw = text ?? new TextDecoder().decode(await readStdin()).replace(/\n$/, '')
        checkJsonSize(Buffer.byteLength(raw))
        const value = parseValue(raw, options.string === true)
        const path = parsePath(options.path)
        const request = { store, key, value, ...(path === undefined ? {} : { path }) }
        checkJsonSize(Buffer.byteLength(encodeWire(request)))
        await withApi(options, 'put', async (api) => printWrite(await api.put(request), options, `put ${key}`))
      }),
    [
      `dagsync put demo greeting '"hello"'`,
      'dagsync put demo greeting hello --string',
      `dagsync put demo todo/4 '{"title": "Write docs", "done": false}'`,
      'dagsync put demo todo/4 true --path done',
      'echo \'{"n": 1}\' | dagsync put demo config',
      'dagsync put files logo.png --file ./logo.png',
      `dagsync put demo a 1 b '"two"' c '{"n": 3}'   # three keys, one commit`,
    ],
  )

  examples(
    program
      .command('del <store> <key>')
      .alias('rm')
      .description('Delete a key')
      .action(async (store: string, key: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'del', async (api) => printWrite(await api.del({ store, key }), options, `del ${key}`))
      }),
    ['dagsync del demo todo/3'],
  )

  examples(
    program
      .command('keys <store>')
      .alias('ls')
      .description('List keys in order, with type, size and last write (--json: one object per line)')
      .option('--prefix <prefix>', 'only keys starting with this')
      .option('--gt <key>', 'only keys after this one')
      .option('--gte <key>', 'only keys from this one')
      .option('--lt <key>', 'only keys before this one')
      .option('--lte <key>', 'only keys up to this one')
      .option('-r, --reverse', 'last key first')
      .option('-l, --limit <n>', 'at most this many')
      .option('--at <version>', 'list a past version: a commit number or commit CID')
      .action(async (store: string, ...args) => {
        const options = optionsOf<{
          prefix?: string
          gt?: string
          gte?: string
          lt?: string
          lte?: string
          reverse?: boolean
          limit?: string
          at?: string
        }>(args)
        const query: KeysQuery = {
          store,
          ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
          ...(options.gt === undefined ? {} : { gt: options.gt }),
          ...(options.gte === undefined ? {} : { gte: options.gte }),
          ...(options.lt === undefined ? {} : { lt: options.lt }),
          ...(options.lte === undefined ? {} : { lte: options.lte }),
          ...(options.reverse === true ? { reverse: true } : {}),
          ...(options.limit === undefined ? {} : { limit: parsePositiveInt(options.limit, '--limit') }),
          ...(options.at === undefined ? {} : { at: parseVersion(options.at, '--at') }),
        }
        await withApi(options, 'keys', async (api) => listKeys(api, query, options))
      }),
    ['dagsync keys demo', 'dagsync keys demo --prefix todo/ --limit 10', 'dagsync keys demo --json | jq -r .key'],
  )

  examples(
    program
      .command('log <store>')
      .description('List commits, newest first, with their author (--json: one object per line)')
      .option('-l, --limit <n>', 'at most this many')
      .option('-k, --key <key>', "only the commits that added, changed or removed this key: the key's history")
      .addHelpText(
        'after',
        '\nColumns: seq, commit CID, time, author (the peer whose write it was; - if not recorded), then the\n' +
          "commit's message, or with --key what it did to the key (added, changed, removed).",
      )
      .action(async (store: string, ...args) => {
        const options = optionsOf<{ limit?: string; key?: string }>(args)
        const limit = options.limit === undefined ? undefined : parsePositiveInt(options.limit, '--limit')
        const request = {
          store,
          ...(limit === undefined ? {} : { limit }),
          ...(options.key === undefined ? {} : { key: options.key }),
        }
        await withApi(options, 'log', async (api) => {
          for await (const commit of api.log(request)) {
            if (options.json === true) printJson(commit)
            else print(logLine(commit))
          }
        })
      }),
    [
      'dagsync log demo --limit 5',
      'dagsync log demo --key todo/1          # when todo/1 was written, and by whom',
      'dagsync log demo --json | head -1',
    ],
  )

  examples(
    program
      .command('diff <store> <from> [to]')
      .description('List keys changed between two versions (to: the head): + added, - removed, ~ changed')
      .action(async (store: string, fromText: string, toText: string | undefined, ...args) => {
        const options = optionsOf(args)
        const from = parseVersion(fromText, 'from')
        const to = toText === undefined ? undefined : parseVersion(toText, 'to')
        await withApi(options, 'diff', async (api) => {
          for await (const change of api.diff({ store, from, ...(to === undefined ? {} : { to }) })) {
            if (options.json === true) {
              printJson(change)
              continue
            }
            const key = showKey(change.key)
            const show = (v: unknown) => JSON.stringify(JSON.parse(pretty(v)))
            if (change.before === undefined) print(`+ ${key}  ${show(change.after)}`)
            else if (change.after === undefined) print(`- ${key}  ${show(change.before)}`)
            else print(`~ ${key}  ${show(change.before)} -> ${show(change.after)}`)
          }
        })
      }),
    ['dagsync diff demo 1', 'dagsync diff demo 3 5 --json'],
  )
}

/** `put <store> k1 v1 k2 v2 ...`: every key in one commit (a bulk write). */
async function putMany(
  store: string,
  pairs: readonly string[],
  options: GlobalOptions & { string?: boolean; path?: string; file?: string },
): Promise<void> {
  if (options.file !== undefined || options.path !== undefined)
    throw new UsageError('--file and --path write one key: give one key and value with them')
  if (pairs.length % 2 !== 0)
    throw new UsageError(`give a value for every key: put <store> k1 v1 k2 v2 ... (key "${pairs.at(-1)}" has none)`)
  const ops: { op: 'put'; key: string; value: unknown }[] = []
  for (let i = 0; i < pairs.length; i += 2) {
    const [key, raw] = [pairs[i] as string, pairs[i + 1] as string]
    checkJsonSize(Buffer.byteLength(raw))
    ops.push({ op: 'put', key, value: parseValue(raw, options.string === true) })
  }
  await withApi(options, 'put', async (api) =>
    printWrite(await api.transact({ store }, ops), options, `put ${ops.length} keys`),
  )
}

function logLine(commit: CommitInfo): string {
  const meta = (commit.meta ?? {}) as { by?: unknown; message?: unknown }
  const author = typeof meta.by === 'string' ? meta.by : '-'
  const note = commit.change ?? (typeof meta.message === 'string' ? meta.message : undefined)
  return `${String(commit.seq).padStart(6)}  ${commit.cid}  ${formatTime(commit.time)}  ${author}${note === undefined ? '' : `  ${note}`}`
}

async function listKeys(api: Api, query: KeysQuery, options: GlobalOptions): Promise<void> {
  if (options.json === true) {
    for await (const info of api.keys(query)) printJson(info)
    return
  }
  // Printed in pages so a large store starts showing at once and columns still line up.
  let page: string[][] = []
  let first = true
  const flush = () => {
    if (page.length === 0 && !first) return
    const text = table(['KEY', 'TYPE', 'SIZE', 'LAST WRITE'], page)
    print(first ? text : text.slice(text.indexOf('\n') + 1))
    first = false
    page = []
  }
  for await (const info of api.keys(query)) {
    page.push([showKey(info.key), info.type, formatBytes(info.size), formatTime(info.lastWrite)])
    if (page.length === 1000) flush()
  }
  if (page.length > 0 || first) flush()
}
