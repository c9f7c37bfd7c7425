// config show|get|set: the repo's config.json by dotted key, checked as a daemon start checks it.
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { type GlobalOptions, repoOf } from '../context.ts'
import { print, printJson } from '../output.ts'

function show(value: unknown, options: GlobalOptions): void {
  if (options.json === true) printJson(value)
  else if (typeof value === 'string') print(value)
  else print(JSON.stringify(value, null, 2))
}

/** A value from the command line: JSON if it parses (false, 30000, null, ["a"]), else the text as a string. */
function parseSetting(text: string, asString: boolean): unknown {
  if (asString) return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function configCommands(program: Command): void {
  const config = program
    .command('config')
    .description("Show, read and change the repo's config.json (see docs/daemon.md for every setting)")
    .addHelpText(
      'after',
      '\nKeys are dotted paths: api, logLevel, gc.keepLast, writers.demo, pinningServices.mine.url.\n' +
        'The daemon reads config.json when it starts: restart it after a change.\n',
    )

  examples(
    config
      .command('show')
      .description('Print the whole config, defaults filled in (pinning service tokens hidden)')
      .action(async (...args) => {
        const options = optionsOf(args)
        const { showConfig } = await import('@dagsync/daemon/config-edit')
        show(await showConfig(await repoOf(options)), options)
      }),
    ['dagsync config show', 'dagsync config show --json | jq .listen'],
  )

  examples(
    config
      .command('get <key>')
      .description("Print one setting's value")
      .action(async (key: string, ...args) => {
        const options = optionsOf(args)
        const { getSetting } = await import('@dagsync/daemon/config-edit')
        show(await getSetting(await repoOf(options), key), options)
      }),
    ['dagsync config get api', 'dagsync config get gc'],
  )

  examples(
    config
      .command('set <key> <value>')
      .description('Change one setting: the value is JSON if it parses (false, 30000, ["a"]), else a string')
      .option('-s, --string', 'take the value as a string even if it parses as JSON')
      .action(async (key: string, text: string, ...args) => {
        const options = optionsOf<{ string?: boolean }>(args)
        const { setSetting } = await import('@dagsync/daemon/config-edit')
        const { repoHolder } = await import('@dagsync/daemon/repo-files')
        const repo = await repoOf(options)
        const value = await setSetting(repo, key, parseSetting(text, options.string === true))
        const holder = await repoHolder(repo)
        const restart = holder?.command === 'daemon'
        if (options.json === true) printJson({ key, value, restartNeeded: restart })
        else if (options.quiet !== true) print(`${key} = ${JSON.stringify(value)}`)
        if (restart)
          process.stderr.write(
            `dagsync: the daemon running on this repo (pid ${holder.pid}) read config.json when it started: restart it for this to take effect\n`,
          )
      }),
    [
      'dagsync config set api 127.0.0.1:5012',
      'dagsync config set logLevel debug',
      'dagsync config set gc \'{"intervalMinutes": 60, "keepLast": 100}\'',
      `dagsync config set listen '["/ip4/0.0.0.0/tcp/4011/ws"]'`,
    ],
  )
}
