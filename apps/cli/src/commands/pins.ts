// pin add|ls|rm|verify, pin remote add|ls|rm, gc, car export|import: keeping and moving DAGs.
import type { RemoteService } from '@dagsync/daemon/client'
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { fileSource, type GlobalOptions, parsePositiveInt, parseSince, withApi } from '../context.ts'
import {
  formatBytes,
  formatTime,
  plural,
  print,
  printJson,
  printProblems,
  problemsFailure,
  progressBar,
  ReportedFailure,
  table,
  UsageError,
  writeBytes,
} from '../output.ts'

function showProgress(options: GlobalOptions): boolean {
  return options.json !== true && options.quiet !== true
}

/** A pinning service from `--service` (a URL, or a name in the config's `pinningServices`) and `--token`. */
async function remoteService(options: GlobalOptions & { service?: string; token?: string }): Promise<RemoteService> {
  const service = options.service ?? process.env.DAGSYNC_PINNING_SERVICE
  if (service === undefined) throw new UsageError('name a pinning service: --service <url or name>')
  let url = service
  let token = options.token ?? process.env.DAGSYNC_PINNING_TOKEN
  if (!/^https?:\/\//.test(service)) {
    const { loadConfig, repoPath } = await import('@dagsync/daemon/repo')
    const named = (await loadConfig(repoPath(options.repo))).pinningServices[service]
    if (named === undefined)
      throw new UsageError(`no pinning service named "${service}" in the config's pinningServices (or give its URL)`)
    url = named.url
    token ??= named.token
  }
  if (token === undefined)
    throw new UsageError('the pinning service needs an access token: --token <t> or DAGSYNC_PINNING_TOKEN')
  return { url, token }
}

const REMOTE_OPTIONS = '--service <url> --token <t>'

export function pinCommands(program: Command): void {
  const pin = program.command('pin').description('Keep DAGs and stores in this repo, safe from gc')

  examples(
    pin
      .command('add <target>')
      .description(
        'Pin a whole DAG by CID (fetching missing blocks from peers), or a store by id or name (kept in full and in sync)',
      )
      .option('-n, --name <name>', 'a name for the pin')
      .action(async (target: string, ...args) => {
        const options = optionsOf<{ name?: string }>(args)
        await withApi(options, 'pin add', async (api) => {
          const bar = await progressBar('pinning', showProgress(options))
          try {
            const result = await api.pinAdd(
              { target, ...(options.name === undefined ? {} : { name: options.name }) },
              bar.onProgress,
            )
            bar.stop()
            if (options.json === true) return printJson(result)
            print(
              `pinned ${result.pin.cid}${result.pin.store === undefined ? '' : ` (store ${result.pin.store})`}: ${plural(result.blocks, 'block')}, ${formatBytes(result.bytes)}, ${result.fetched} fetched`,
            )
          } finally {
            bar.stop()
          }
        })
      }),
    [
      'dagsync pin add bafyreib...                # a commit, a tree node, any dag-cbor or raw DAG',
      'dagsync pin add k51qzi5uqu5d... --name backup   # follow a store and keep all of it',
    ],
  )

  examples(
    pin
      .command('ls')
      .description('List pins: DAGs pinned by CID, and stores kept at their head')
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'pin ls', async (api) => {
          const pins = await api.pinList()
          if (options.json === true) return printJson(pins)
          print(
            table(
              ['CID', 'TYPE', 'NAME', 'SINCE'],
              pins.map((p) => [
                p.cid.toString(),
                p.type,
                p.name ?? p.store ?? '',
                p.time === undefined ? '' : formatTime(p.time),
              ]),
            ),
          )
        })
      }),
    ['dagsync pin ls', 'dagsync pin ls --json'],
  )

  examples(
    pin
      .command('rm <target>')
      .description('Unpin a CID, or stop keeping a followed store (its blocks go at the next gc)')
      .action(async (target: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'pin rm', async (api) => {
          const removed = await api.pinRemove({ target })
          if (options.json === true) return printJson(removed)
          print(`unpinned ${removed.cid}${removed.store === undefined ? '' : ` (store ${removed.store})`}`)
        })
      }),
    ['dagsync pin rm bafyreib...'],
  )

  examples(
    pin
      .command('verify')
      .description(
        'Re-hash every block reachable from the pins and store heads; exit 1 if any is missing or corrupt, or a store the repo knew is gone',
      )
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'pin verify', async (api) => {
          const bar = await progressBar('verifying', showProgress(options))
          const result = await api.pinVerify(bar.onProgress).finally(() => bar.stop())
          if (options.json === true) printJson(result)
          else {
            for (const root of result.roots) {
              const problems = [
                ...root.missing.map((cid) => `missing ${cid}`),
                ...root.corrupt.map((cid) => `corrupt ${cid}`),
              ]
              print(
                `${problems.length === 0 ? 'ok ' : 'BAD'}  ${root.cid}  ${root.name ?? ''}  ${plural(root.blocks, 'block')}`,
              )
              for (const problem of problems.slice(0, 20)) print(`       ${problem}`)
              if (problems.length > 20) print(`       ... and ${problems.length - 20} more`)
            }
            if (result.problems.length > 0) printProblems(result.problems)
            print(
              `${plural(result.blocks, 'block')}, ${formatBytes(result.bytes)} checked: ${result.ok ? 'all good' : 'PROBLEMS FOUND'}`,
            )
          }
          // Stores the database lost are named first: their blocks could not even be checked.
          if (result.problems.length > 0) throw problemsFailure(result.problems)
          if (!result.ok)
            throw new ReportedFailure(
              'some pinned blocks are missing or corrupt (re-fetch them with `dagsync pin add`)',
            )
        })
      }),
    ['dagsync pin verify', 'dagsync pin verify --json | jq .ok'],
  )

  const remote = pin
    .command('remote')
    .description('Pin on a remote IPFS Pinning Service (it fetches the blocks from this daemon)')
  examples(
    remote
      .command('add <target>')
      .description('Ask the service to pin a CID or a store head; waits until pinned unless --background')
      .option('--service <url>', 'the service URL, or a name from the config (env DAGSYNC_PINNING_SERVICE)')
      .option('--token <token>', 'its access token (env DAGSYNC_PINNING_TOKEN)')
      .option('-n, --name <name>', 'a name for the pin')
      .option('--background', 'return once the service has queued the pin')
      .option('--timeout <seconds>', 'give up waiting after this long', '300')
      .action(async (target: string, ...args) => {
        const options = optionsOf<{
          service?: string
          token?: string
          name?: string
          background?: boolean
          timeout: string
        }>(args)
        const service = await remoteService(options)
        const timeoutMs = parsePositiveInt(options.timeout, '--timeout') * 1000
        await withApi(options, 'pin remote add', async (api) => {
          const bar = await progressBar('remote pin', showProgress(options))
          const pinned = await api
            .remotePinAdd(
              {
                ...service,
                target,
                timeoutMs,
                background: options.background === true,
                ...(options.name === undefined ? {} : { name: options.name }),
              },
              bar.onProgress,
            )
            .finally(() => bar.stop())
          if (options.json === true) printJson(pinned)
          else print(`${pinned.status}  ${pinned.cid}  request ${pinned.requestid}`)
          if (pinned.status === 'failed') throw new ReportedFailure(`the service failed to pin ${pinned.cid}`)
        })
      }),
    [
      `dagsync pin remote add demo ${REMOTE_OPTIONS}`,
      'dagsync pin remote add bafyreib... --service mysvc --background   # mysvc in config.json',
    ],
  )
  examples(
    remote
      .command('ls')
      .description('List pins on the service')
      .option('--service <url>', 'the service URL, or a name from the config')
      .option('--token <token>', 'its access token')
      .option('--status <status...>', 'queued, pinning, pinned, failed', ['pinned'])
      .option('--cid <cid>', 'only this CID')
      .option('-n, --name <name>', 'only pins with this name')
      .action(async (...args) => {
        const options = optionsOf<{ service?: string; token?: string; status: string[]; cid?: string; name?: string }>(
          args,
        )
        const service = await remoteService(options)
        await withApi(options, 'pin remote ls', async (api) => {
          const pins = await api.remotePinList({
            ...service,
            status: options.status,
            ...(options.cid === undefined ? {} : { cid: options.cid }),
            ...(options.name === undefined ? {} : { name: options.name }),
          })
          if (options.json === true) return printJson(pins)
          print(
            table(
              ['CID', 'STATUS', 'NAME', 'REQUEST'],
              pins.map((p) => [p.cid, p.status, p.name ?? '', p.requestid]),
            ),
          )
        })
      }),
    [`dagsync pin remote ls ${REMOTE_OPTIONS} --status queued pinning pinned failed`],
  )
  examples(
    remote
      .command('rm <target>')
      .description('Remove pins from the service, by request id or by CID')
      .option('--service <url>', 'the service URL, or a name from the config')
      .option('--token <token>', 'its access token')
      .action(async (target: string, ...args) => {
        const options = optionsOf<{ service?: string; token?: string }>(args)
        const service = await remoteService(options)
        await withApi(options, 'pin remote rm', async (api) => {
          const result = await api.remotePinRemove({ ...service, target })
          if (options.json === true) return printJson(result)
          print(`removed ${plural(result.removed.length, 'pin')}`)
        })
      }),
    [`dagsync pin remote rm bafyreib... ${REMOTE_OPTIONS}`],
  )

  examples(
    program
      .command('gc')
      .description('Delete blocks that no pin and no retained commit of any store reaches; report what was freed')
      .option('--keep-last <n>', "keep each store's last n commits (default: all commits)")
      .option('--keep-since <when>', 'keep commits made since a date or a duration ago (2026-11-01, 7d, 12h)')
      .action(async (...args) => {
        const options = optionsOf<{ keepLast?: string; keepSince?: string }>(args)
        const request = {
          ...(options.keepLast === undefined ? {} : { keepLast: parsePositiveInt(options.keepLast, '--keep-last') }),
          ...(options.keepSince === undefined ? {} : { keepSince: parseSince(options.keepSince) }),
        }
        await withApi(options, 'gc', async (api) => {
          const report = await api.gc(request)
          if (options.json === true) return printJson(report)
          print(
            `kept ${plural(report.keptBlocks, 'block')} (${plural(report.commits, 'commit')}); freed ${plural(report.deletedBlocks, 'block')}, ${formatBytes(report.deletedBytes)}`,
          )
        })
      }),
    ['dagsync gc', 'dagsync gc --keep-last 10', 'dagsync gc --keep-since 7d --json'],
  )

  const car = program.command('car').description('Export and import CAR files (CARv1)')
  examples(
    car
      .command('export <root>')
      .description('Write a DAG as a CAR: a CID, a store (its head) or store@seq; --since: only the new blocks')
      .option('-o, --output <file>', 'write here instead of stdout')
      .option('--since <root>', 'leave out blocks reachable from this earlier root (an incremental CAR)')
      .action(async (root: string, ...args) => {
        const options = optionsOf<{ output?: string; since?: string }>(args)
        if (options.output === undefined && process.stdout.isTTY === true)
          throw new UsageError('a CAR is binary: give --output <file> or redirect stdout')
        await withApi(options, 'car export', async (api) => {
          const chunks = await api.carExport({ root, ...(options.since === undefined ? {} : { since: options.since }) })
          const size = await writeBytes(chunks, options.output)
          if (options.output !== undefined) {
            if (options.json === true) printJson({ file: options.output, bytes: size })
            else if (options.quiet !== true) print(`wrote ${formatBytes(size)} to ${options.output}`)
          }
        })
      }),
    [
      'dagsync car export demo -o demo.car',
      'dagsync car export demo --since demo@3 -o new.car   # blocks new since commit 3',
      'dagsync car export bafyreib... > dag.car',
    ],
  )
  examples(
    car
      .command('import <file>')
      .description('Import a CAR (- for stdin): every block is re-hashed first; roots are pinned when complete')
      .option('--no-pin', 'do not pin the roots')
      .action(async (file: string, ...args) => {
        const options = optionsOf<{ pin: boolean }>(args)
        const source = await fileSource(file)
        await withApi(options, 'car import', async (api) => {
          const bar = await progressBar('importing', showProgress(options))
          const result = await api.carImport({ pin: options.pin }, source, bar.onProgress).finally(() => bar.stop())
          if (options.json === true) return printJson(result)
          print(
            `imported ${plural(result.blocks, 'block')}, ${formatBytes(result.bytes)}; ${result.roots.length === 1 ? 'root' : 'roots'} ${result.roots.join(' ')}${result.pinned ? ' (pinned)' : options.pin ? ' (not pinned: the DAG is incomplete)' : ''}`,
          )
        })
      }),
    ['dagsync car import demo.car', 'cat dag.car | dagsync car import - --no-pin'],
  )
}
