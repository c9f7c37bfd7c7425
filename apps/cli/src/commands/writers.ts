// store allow|deny|writers: who besides this node may write a store this repo writes.
import type { WritersInfo } from '@dagsync/daemon/client'
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { type GlobalOptions, withApi } from '../context.ts'
import { print, printJson, UsageError } from '../output.ts'

/** Prints the list as it is after the command: every command here shows the result, never just "ok". */
function printWriters(ref: string, result: WritersInfo, options: GlobalOptions): void {
  if (options.json === true) printJson(result)
  else if (result.writers.length === 0) print(`only this node writes ${ref}`)
  else {
    print(`may write ${ref} besides this node:`)
    for (const peer of result.writers)
      print(`  ${peer}${result.configured.includes(peer) ? '  (config.json; change it there)' : ''}`)
  }
}

export function writerCommands(store: Command): void {
  examples(
    store
      .command('allow <store> [peers...]')
      .description('Allow peers to write to a store this repo writes: adds them to those already allowed')
      .option('--replace', 'make these peers the whole list, revoking every other (none: only this node)')
      .action(async (ref: string, peers: string[], ...args) => {
        const options = optionsOf<{ replace?: boolean }>(args)
        if (peers.length === 0 && options.replace !== true)
          throw new UsageError(
            'name the peers to allow (their `dagsync id`), or pass --replace with none to allow only this node',
          )
        await withApi(options, 'store allow', async (api) =>
          printWriters(
            ref,
            await api.storeAllow({ store: ref, peers, mode: options.replace === true ? 'replace' : 'add' }),
            options,
          ),
        )
      }),
    [
      'dagsync store allow demo 12D3KooWAbc...                 # adds one writer',
      'dagsync store allow demo --replace 12D3KooWDef...       # this one only',
      'dagsync store allow demo --replace                      # nobody but this node',
    ],
  )

  examples(
    store
      .command('deny <store> <peers...>')
      .description('Stop peers from writing to a store this repo writes (the others stay allowed)')
      .action(async (ref: string, peers: string[], ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store deny', async (api) =>
          printWriters(ref, await api.storeDeny({ store: ref, peers }), options),
        )
      }),
    ['dagsync store deny demo 12D3KooWAbc...'],
  )

  examples(
    store
      .command('writers <store>')
      .description('List the peers that may write to a store this repo writes, besides this node')
      .action(async (ref: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store writers', async (api) =>
          printWriters(ref, await api.storeWriters({ store: ref }), options),
        )
      }),
    ['dagsync store writers demo', 'dagsync store writers demo --json | jq -r ".writers[]"'],
  )
}
