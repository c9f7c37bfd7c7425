// import, export: many keys at once, as NDJSON (see ndjson.ts for the format).
import { stat } from 'node:fs/promises'
import type { Api, CommitInfo } from '@dagsync/daemon/client'
import { decodeWire, encodeWire, MAX_JSON_BODY_BYTES } from '@dagsync/daemon/client'
import type { WriteOp } from '@dagsync/store/ops'
import type { Command } from 'commander'
import type { CID } from 'multiformats/cid'
import { examples, optionsOf } from '../command.ts'
import { fileSource, type GlobalOptions, parsePositiveInt, parseVersion, withApi } from '../context.ts'
import type { ImportedBatch } from '../importer.ts'
import { formatBytes, print, printJson, progressBar, UsageError, writeBytes } from '../output.ts'

const FORMAT_HELP = `
The format (what export writes), one key per line:
  {"key": "todo/1", "value": {"title": "Write docs"}}   a value (JSON, read as DAG-JSON)
  {"key": "logo.png", "bytes": "iVBORw0KGgo="}          a binary value, its bytes in base64
  {"key": "video", "ref": {"/": "bafy..."}}             a binary value by reference to bytes the repo holds
  {"key": "todo/3", "delete": true}                     a delete
import also reads one JSON object of keys and values: {"todo/1": {...}, "todo/2": {...}}.`

/** Binary values larger than this are uploaded on their own first and placed by reference. */
const STAGE_FROM = 32 * 1024

/** Export asks for binary values up to this size with the keys; larger ones are streamed one by one. */
const INLINE_EXPORT = 1024 * 1024

function showProgress(options: GlobalOptions): boolean {
  return options.json !== true && options.quiet !== true
}

export function bulkCommands(program: Command): void {
  examples(
    program
      .command('import <store> [file]')
      .description('Write keys from NDJSON (or one JSON object), from a file or stdin, committing in batches')
      .option('-b, --batch <n>', 'keys per commit, at most 10000 (a batch also ends before 1 MiB of keys and values)')
      .option('--format <format>', 'ndjson or json (default: told from the first line)')
      .option('-m, --message <text>', 'a message to record in each commit')
      .addHelpText('after', FORMAT_HELP)
      .action(async (store: string, file: string | undefined, ...args) => {
        const options = optionsOf<{ batch?: string; format?: string; message?: string }>(args)
        const { MAX_BULK_OPS } = await import('@dagsync/store/ops')
        const batch = options.batch === undefined ? MAX_BULK_OPS : parsePositiveInt(options.batch, '--batch')
        if (batch > MAX_BULK_OPS)
          throw new UsageError(`--batch is at most ${MAX_BULK_OPS}, the most ops one commit may carry`)
        if (options.format !== undefined && options.format !== 'ndjson' && options.format !== 'json')
          throw new UsageError('--format is ndjson or json')
        const path = file ?? '-'
        const source = await fileSource(path)
        const total = path === '-' ? undefined : (await stat(path)).size
        await withApi(options, 'import', (api) =>
          importKeys(api, store, source, {
            batch,
            total,
            format: options.format as 'ndjson' | 'json' | undefined,
            meta: options.message === undefined ? undefined : { message: options.message },
            options,
          }),
        )
      }),
    [
      'dagsync import demo todos.ndjson',
      'dagsync export demo | dagsync import copy',
      `echo '{"a": 1, "b": 2}' | dagsync import demo`,
      'dagsync import demo big.ndjson --batch 1000 --message "nightly load"',
    ],
  )

  examples(
    program
      .command('export <store>')
      .description('Write every key (or those under --prefix) as NDJSON, the format import reads')
      .option('-o, --output <file>', 'write to this file instead of stdout')
      .option('--prefix <prefix>', 'only keys starting with this')
      .option('--at <version>', 'export a past version: a commit number or commit CID')
      .addHelpText('after', FORMAT_HELP)
      .action(async (store: string, ...args) => {
        const options = optionsOf<{ output?: string; prefix?: string; at?: string }>(args)
        const at = options.at === undefined ? undefined : parseVersion(options.at, '--at')
        await withApi(options, 'export', async (api) => {
          // One version throughout, also for the binary values read on their own.
          const version = at ?? (await api.storeStatus({ store })).seq
          let keys = 0
          const size = await writeBytes(
            pieces(exportLines(api, store, version, options.prefix, () => keys++)),
            options.output,
          )
          if (options.output === undefined) return
          if (options.json === true) printJson({ keys, bytes: size, output: options.output })
          else print(`exported ${keys} keys (${formatBytes(size)}) to ${options.output}`)
        })
      }),
    ['dagsync export demo > demo.ndjson', 'dagsync export demo --prefix todo/ -o todos.ndjson'],
  )
}

interface ImportOptions {
  readonly batch: number
  /** The input's size, when it is a file (for the progress bar). */
  readonly total: number | undefined
  readonly format: 'ndjson' | 'json' | undefined
  readonly meta: Record<string, unknown> | undefined
  readonly options: GlobalOptions
}

async function importKeys(
  api: Api,
  store: string,
  source: AsyncIterable<Uint8Array>,
  { batch, total, format, meta, options }: ImportOptions,
): Promise<void> {
  const { readLines, lineToOp, isEntry, entryToOp, LineError } = await import('../ndjson.ts')
  const looksLikeEntry = (text: string): boolean => {
    try {
      return isEntry(JSON.parse(text))
    } catch {
      return false
    }
  }
  const { Importer } = await import('../importer.ts')
  let read = 0
  let ops = 0
  const bar = await progressBar('importing', showProgress(options), 'keys')
  const progress = () =>
    bar.onProgress({
      blocks: ops,
      bytes: read,
      // The keys still to come, estimated from the share of the file read so far.
      ...(total === undefined || read === 0 ? {} : { total: Math.max(ops, Math.round((ops * total) / read)) }),
    })
  const lines = readLines(source, (n) => {
    read += n
  })[Symbol.asyncIterator]()
  let line = 0
  // Told from the first line that is not blank (or by --format), before anything is sent.
  let ndjson = format !== 'json'
  const names: string[] = []
  const commitLine = (done: ImportedBatch): string =>
    `${describe(done.commit)} (${done.ops} keys, ${ndjson ? 'lines' : 'entries'} ${done.from}-${done.to})`
  const importer = new Importer({
    api,
    store,
    batch,
    ...(meta === undefined ? {} : { meta }),
    where: (n) => (ndjson ? `line ${n}` : `entry ${n}${names[n - 1] === undefined ? '' : ` (${names[n - 1]})`}`),
    onCommit: (done) => {
      // Printed as they are made, unless a progress bar holds the terminal: then at the end.
      if (options.json !== true && options.quiet !== true && !bar.shown) print(commitLine(done))
    },
  })
  /** The op as it is sent: large binary values uploaded first and placed by reference. */
  const add = async (op: WriteOp, position: number, fromLine: boolean) => {
    let sent = op
    if (op.op === 'put-bytes' && op.bytes.length > STAGE_FROM) {
      const bytes = op.bytes
      const { ref } = await api.stageBytes(
        { store },
        (async function* () {
          yield bytes
        })(),
      )
      sent = { op: 'put-ref', key: op.key, ref }
    } else if (op.op === 'put' && !fromLine && Buffer.byteLength(encodeWire(op.value)) > MAX_JSON_BODY_BYTES) {
      // The API's limit for a JSON value, with or without a daemon (as for `put`); lineToOp holds a line to it.
      throw new LineError(
        position,
        `the value is over ${MAX_JSON_BODY_BYTES / 1024} KiB, the limit for JSON values: store it as bytes (a "bytes" line)`,
      )
    }
    await importer.add(sent, position)
    ops++
    progress()
  }
  try {
    let first: string | undefined
    for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
      line++
      if (next.value.trim() !== '') {
        first = next.value
        break
      }
    }
    if (format === undefined && first !== undefined) ndjson = looksLikeEntry(first)
    if (first === undefined) {
      // Empty input: nothing to do.
    } else if (ndjson) {
      await add(lineToOp(first, line), line, true)
      for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
        line++
        if (next.value.trim() === '') continue
        await add(lineToOp(next.value, line), line, true)
      }
    } else {
      // One JSON object, read whole: its entries are named by their place and key.
      let text = first
      for (let next = await lines.next(); next.done !== true; next = await lines.next()) text += `\n${next.value}`
      const object = parseObject(text)
      let position = 0
      for (const [key, value] of Object.entries(object)) {
        position++
        names.push(JSON.stringify(key))
        const op = entryToOp({ key, value }, position)
        await add(op, position, false)
      }
    }
    await importer.finish()
  } catch (err) {
    bar.stop()
    throw await importer.failure(err)
  }
  bar.stop()
  const committed = importer.committed
  if (options.json === true) {
    printJson({
      keys: ops,
      commits: committed.map((c) => ({
        commit: c.commit,
        keys: c.ops,
        [ndjson ? 'lines' : 'entries']: [c.from, c.to],
      })),
    })
  } else if (options.quiet !== true) {
    if (bar.shown) for (const done of committed) print(commitLine(done))
    const made = committed.filter((c) => c.commit !== null).length
    print(`imported ${ops} keys in ${made} commit${made === 1 ? '' : 's'}`)
  }
}

function parseObject(text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = decodeWire(text)
  } catch (err) {
    throw new UsageError(
      `the input is neither NDJSON (its first line is not {"key": ..., "value": ...}) nor one JSON object: ${(err as Error).message}`,
    )
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    throw new UsageError('the input is neither NDJSON nor a JSON object of keys and values')
  return value as Record<string, unknown>
}

function describe(commit: CommitInfo | null): string {
  return commit === null ? 'no change' : `commit ${commit.seq} ${commit.cid}`
}

/** The NDJSON of a store's keys at `version`; `counted` is told of each key. */
async function* exportLines(
  api: Api,
  store: string,
  version: number | CID,
  prefix: string | undefined,
  counted: () => void,
): AsyncGenerator<string> {
  const { valueLine, bytesLine, streamedBytesLine } = await import('../ndjson.ts')
  const query = { store, at: version, inlineBytes: INLINE_EXPORT, ...(prefix === undefined ? {} : { prefix }) }
  for await (const { info, value, bytes } of api.entries(query)) {
    counted()
    if (info.type === 'value') yield valueLine(info.key, value)
    else if (bytes !== undefined) yield bytesLine(info.key, bytes)
    else yield* streamedBytesLine(info.key, await api.getBytes({ store, key: info.key, at: version }))
  }
}

/** Text as UTF-8 pieces of about 64 KiB: fewer, larger writes. */
async function* pieces(text: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  let piece = ''
  for await (const part of text) {
    piece += part
    if (piece.length >= 64 * 1024) {
      yield Buffer.from(piece)
      piece = ''
    }
  }
  if (piece !== '') yield Buffer.from(piece)
}
