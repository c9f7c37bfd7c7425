// version: what `dagsync --version` prints, as a command (Kubo's `ipfs version`), with --json.
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { print, printJson } from '../output.ts'

export function versionCommand(program: Command, version: string): void {
  examples(
    program
      .command('version')
      .description('Print the version of dagsync (and, with --json, of Node.js and the platform)')
      .action((...args) => {
        const options = optionsOf(args)
        if (options.json === true)
          printJson({ version, node: process.versions.node, platform: `${process.platform}-${process.arch}` })
        else print(`dagsync version ${version}`)
      }),
    ['dagsync version', 'dagsync --version', 'dagsync version --json'],
  )
}
