/**
 * @packageDocumentation
 *
 * `dagsync`, the command line: run the daemon, read and write stores, pin, gc, and move DAGs as
 * CAR files. Commands talk to the running daemon through its local HTTP API; with no daemon
 * running, those that can work on the repo directly do so (taking its lock).
 *
 * `run(argv)` parses and runs one command line and resolves to the exit code (see `EXIT`).
 */
import { Command, CommanderError } from 'commander'
import { bulkCommands } from './commands/bulk.ts'
import { configCommands } from './commands/config.ts'
import { dataCommands } from './commands/data.ts'
import { healthCommand } from './commands/health.ts'
import { nodeCommands } from './commands/node.ts'
import { pinCommands } from './commands/pins.ts'
import { storeCommands } from './commands/stores.ts'
import { versionCommand } from './commands/version.ts'
import { describeError, EXIT } from './output.ts'

export { EXIT } from './output.ts'

const OVERVIEW = `
Getting started:
  dagsync daemon                     start a node (creates ~/.dagsync and a demo store)
  dagsync keys demo                  list the demo store's keys (in another terminal)
  dagsync put demo greeting '"hi"'   write a key (values are JSON)
  dagsync get demo greeting          read it back

Where things are:
  --repo, or DAGSYNC_PATH, or ~/.dagsync     the repo: config.json, api-token, data/
  --api, or DAGSYNC_API                      a daemon's API: URL, host:port or /ip4/127.0.0.1/tcp/5011
                                             (default: the daemon running on the repo)

Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 not found, 4 unauthorized, 5 unavailable
(no daemon, no peer, or the repo is locked).
Docs: docs/cli.md`

export function createProgram(version: string): Command {
  const program = new Command('dagsync')
    .description('A content-addressed key-value store that syncs between servers and browsers over IPFS')
    .version(`dagsync version ${version}`, '-v, --version')
    .option('--repo <path>', 'the repo directory (env DAGSYNC_PATH, default ~/.dagsync)')
    .option(
      '--api <address>',
      "a daemon's API instead of the one running on the repo: a URL, host:port or multiaddr (/ip4/127.0.0.1/tcp/5011) (env DAGSYNC_API)",
    )
    .option('--json', 'print results as JSON (DAG-JSON; lists that stream print one object per line)')
    .option('-q, --quiet', 'print less: no progress bars, no confirmations')
    // Every error starts "dagsync: ", commander's own (unknown option, missing argument) too.
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'dagsync: ')) })
    .showHelpAfterError('(add --help for usage and examples)')
    .showSuggestionAfterError()
    .addHelpText('after', OVERVIEW)
  nodeCommands(program)
  storeCommands(program)
  dataCommands(program)
  bulkCommands(program)
  pinCommands(program)
  configCommands(program)
  healthCommand(program)
  versionCommand(program, version)
  for (const command of allCommands(program)) command.exitOverride()
  return program
}

function* allCommands(command: Command): Generator<Command> {
  yield command
  for (const sub of command.commands) yield* allCommands(sub)
}

/** Runs one command line (`argv` without node and the script) and resolves to its exit code. */
export async function run(argv: readonly string[], version: string): Promise<number> {
  const program = createProgram(version)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version end the same way; commander has printed the message already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        return EXIT.ok
      if (err.code === 'commander.help') return EXIT.ok
      return EXIT.usage
    }
    const { code, message } = describeError(err)
    process.stderr.write(`dagsync: ${message}\n`)
    return code
  }
}
