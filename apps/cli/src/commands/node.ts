// init, daemon, id, status, peers, name: the node and the repo.
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { withApi } from '../context.ts'
import { hintCommand } from '../hint.ts'
import {
  formatBytes,
  plural,
  print,
  printJson,
  printProblems,
  problemsFailure,
  ReportedFailure,
  table,
  UsageError,
} from '../output.ts'

export function nodeCommands(program: Command): void {
  examples(
    program
      .command('init')
      .description('Create a repo (config, API token, database) without starting the daemon')
      .option('--no-demo', 'do not create the demo store on the first daemon start')
      .option('--listen <multiaddr...>', 'addresses to listen on for peers')
      .option(
        '--api-address <address>',
        'where the HTTP API listens: host:port or /ip4/127.0.0.1/tcp/5011 (loopback only)',
      )
      .action(async (...args) => {
        const options = optionsOf<{ demo: boolean; listen?: string[]; apiAddress?: string }>(args)
        const { initRepo, repoPath } = await import('@dagsync/daemon')
        const repo = repoPath(options.repo)
        const created = await initRepo(repo, {
          demo: options.demo,
          ...(options.listen === undefined ? {} : { listen: options.listen }),
          ...(options.apiAddress === undefined ? {} : { api: options.apiAddress }),
        })
        if (!created) throw new ReportedFailure(`a repo already exists at ${repo} (its config.json was left as it is)`)
        if (options.json === true) printJson({ repo, created })
        else
          print(
            [
              `initialized a dagsync repo at ${repo}`,
              `change settings with:  ${hintCommand(repo)} config set <key> <value>   (or edit ${repo}/config.json)`,
              `then start it with:    ${hintCommand(repo)} daemon`,
            ].join('\n'),
          )
      }),
    ['dagsync init', 'dagsync --repo ./node-a init --no-demo --listen /ip4/127.0.0.1/tcp/4012/ws'],
  )

  examples(
    program
      .command('daemon')
      .description('Run the node: serve and follow stores, keep them pinned, answer the local HTTP API')
      .option('--listen <multiaddr...>', 'listen for peers on these addresses instead of the config\'s "listen"')
      .option(
        '--api-address <address>',
        'serve the HTTP API here instead of the config\'s "api": host:port or /ip4/127.0.0.1/tcp/5011 (port 0: any free port)',
      )
      .option(
        '--gateway-address <address>',
        'serve the trustless gateway (/ipfs/, /ipns/) here instead of the config\'s "gateway": host:port (port 0: any free port)',
      )
      .option('--log-level <level>', 'trace, debug, info, warn, error or silent')
      .action(async (...args) => {
        const options = optionsOf<{
          listen?: string[]
          apiAddress?: string
          gatewayAddress?: string
          logLevel?: string
        }>(args)
        await runDaemon(options)
      }),
    [
      'dagsync daemon                                   # creates ~/.dagsync on first run',
      'dagsync --repo ./node-b daemon --listen /ip4/127.0.0.1/tcp/4012/ws --api-address 127.0.0.1:5012',
      'dagsync daemon --json | head -1                  # one JSON line once it is ready',
      'dagsync daemon --gateway-address 127.0.0.1:8081  # also serve blocks to any IPFS HTTP client',
    ],
  )

  examples(
    program
      .command('id')
      .description("Show this node's peer id, dialable addresses and API")
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'id', async (api) => {
          const id = await api.id()
          if (options.json === true) return printJson(id)
          print(`peer id   ${id.peerId}`)
          for (const address of id.addresses) print(`address   ${address}`)
          if (id.api !== undefined) print(`api       ${id.api}`)
          print(`repo      ${id.repo}`)
        })
      }),
    ['dagsync id', 'dagsync id --json'],
  )

  examples(
    program
      .command('status')
      .description('Show the node and every store: role, commit, lag, peers, last sync')
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'status', async (api) => {
          const status = await api.status()
          // A repo that lost stores is not "ok": the problems are shown, and the exit code is 1.
          const failed = status.problems.length > 0 ? problemsFailure(status.problems) : undefined
          if (options.json === true) {
            printJson(status)
            if (failed !== undefined) throw failed
            return
          }
          print(
            `${status.online ? 'online' : 'offline (no daemon running)'}  peer ${status.peerId}  ${plural(status.peers, 'peer')}  up ${status.uptimeSeconds}s`,
          )
          print()
          print(
            table(
              ['STORE', 'ROLE', 'SEQ', 'NEWEST', 'LAG', 'KEYS', 'PEERS', 'LAST SYNC'],
              status.stores.map((s) => [
                s.names[0] ?? s.id,
                s.role,
                String(s.seq),
                String(s.newest),
                String(s.lag),
                s.keys < 0 ? '-' : String(s.keys),
                String(s.peers),
                s.lastSync === undefined
                  ? (s.lastError ?? '')
                  : `#${s.lastSync.seq} ${s.lastSync.ms} ms ${formatBytes(s.lastSync.wireBytes)} via ${s.lastSync.path}`,
              ]),
            ),
          )
          if (failed !== undefined) {
            print()
            printProblems(status.problems)
            throw failed
          }
        })
      }),
    ['dagsync status', 'dagsync status --json | jq ".stores[] | {id, lag}"'],
  )

  const peers = program.command('peers').description('List connected peers, or connect to one')
  examples(
    peers
      .command('ls', { isDefault: true })
      .description('List connected peers and their addresses')
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'peers', async (api) => {
          const list = await api.peers()
          if (options.json === true) return printJson(list)
          for (const peer of list) print(`${peer.id}  ${peer.addresses.join(' ')}`)
        })
      }),
    ['dagsync peers', 'dagsync peers ls --json'],
  )
  examples(
    peers
      .command('connect <multiaddr>')
      .description('Dial a peer and keep redialling it (with backoff) while the daemon runs')
      .action(async (address: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'peers connect', async (api) => {
          const peer = await api.connect({ address })
          if (options.json === true) return printJson(peer)
          print(`connected to ${peer.id}`)
        })
      }),
    ['dagsync peers connect /ip4/127.0.0.1/tcp/4011/ws/p2p/12D3KooW...'],
  )

  const name = program.command('name').description("Publish or resolve a store's IPNS name (its id)")
  examples(
    name
      .command('publish <store>')
      .description("Publish the store's head as a signed IPNS record now (the daemon also does so after each commit)")
      .action(async (store: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'name publish', async (api) => {
          const record = await api.namePublish({ store })
          if (options.json === true) return printJson(record)
          print(`published ${record.name} -> ${record.value} (commit ${record.seq})`)
        })
      }),
    ['dagsync name publish demo'],
  )
  examples(
    name
      .command('resolve <name>')
      .description('Resolve a store id to its latest commit through IPNS (from peers, verified)')
      .action(async (ref: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'name resolve', async (api) => {
          const record = await api.nameResolve({ name: ref })
          if (options.json === true) return printJson(record)
          print(`${record.value} (commit ${record.seq})`)
        })
      }),
    ['dagsync name resolve k51qzi5uqu5d...'],
  )
}

async function runDaemon(options: {
  repo?: string
  json?: boolean
  listen?: string[]
  apiAddress?: string
  gatewayAddress?: string
  logLevel?: string
}): Promise<void> {
  const { parseApiAddress, parseGatewayAddress, readConfig, repoPath, startDaemon, stopWithin } = await import(
    '@dagsync/daemon'
  )
  // A bad flag is named as the flag, before the repo is opened (the config's are named as settings).
  if (options.apiAddress !== undefined) {
    try {
      parseApiAddress(options.apiAddress)
    } catch (err) {
      throw new UsageError(`--api-address: ${(err as Error).message}`)
    }
  }
  if (options.gatewayAddress !== undefined) {
    try {
      parseGatewayAddress(options.gatewayAddress)
    } catch (err) {
      throw new UsageError(`--gateway-address: ${(err as Error).message}`)
    }
  }
  if (options.listen !== undefined) {
    try {
      readConfig({ listen: options.listen }, '--listen')
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
  }
  const repo = repoPath(options.repo)
  const daemon = await startDaemon({
    repo,
    cli: hintCommand(repo),
    ...(options.listen === undefined ? {} : { listen: options.listen }),
    ...(options.apiAddress === undefined ? {} : { api: options.apiAddress }),
    ...(options.gatewayAddress === undefined ? {} : { gateway: options.gatewayAddress }),
    ...(options.logLevel === undefined ? {} : { logLevel: options.logLevel }),
  })
  const id = await daemon.api.id()
  const stores = await daemon.api.storeList()
  if (options.json === true) {
    printJson({ event: 'ready', ...id, stores })
  } else {
    print(`dagsync daemon ${id.version} is running`)
    print(`  repo     ${id.repo}${daemon.createdDemo ? ' (created, with a demo store)' : ''}`)
    print(`  peer id  ${id.peerId}`)
    for (const address of id.addresses) print(`  dial     ${address}`)
    print(`  web app  ${daemon.url}/`)
    print(`  api      ${daemon.url}  (token in ${id.repo}/api-token; /health, /metrics)`)
    if (id.gateway !== undefined) print(`  gateway  ${id.gateway}  (/ipfs/<cid>, /ipns/<store id>; public-read)`)
    for (const store of stores)
      print(`  store    ${store.names[0] ?? '-'}  ${store.id}  ${store.role}, commit ${store.seq}`)
    print()
    const example = stores[0]?.names[0] ?? stores[0]?.id
    if (example !== undefined) print(`Try, in another terminal:  ${hintCommand(id.repo)} keys ${example}`)
    print('Stop with Ctrl+C.')
  }

  // A database that refuses writes though the disk has room recovers only when reopened: stop,
  // and exit with the message (a supervisor, or the user, starts the daemon again).
  void daemon.failed.then(async (message) => {
    await stopWithin(daemon)
    process.stderr.write(`dagsync: ${message}\n`)
    process.exit(1)
  })

  // Runs until a signal; the process then ends in onSignal.
  await new Promise<void>(() => {
    let first = 0
    const onSignal = (signal: NodeJS.Signals) => {
      // Wrappers (npm, tools/run.mjs) pass a Ctrl+C on that the terminal also sent to the
      // whole process group: only a signal a second or more after the first forces the exit.
      if (first > 0) {
        if (Date.now() - first < 1000) return
        daemon.log.warn({ signal }, 'second signal: exiting without a clean shutdown')
        process.exit(130)
      }
      first = Date.now()
      daemon.log.info({ signal }, 'shutting down (in-flight commits finish first)')
      // Exits when the stop is done, or at its deadline if storage hangs: nothing left running
      // (a half-stopped node after a failed step) may keep the process alive.
      void stopWithin(daemon).then((code) => process.exit(code))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
