// Small helpers that give every command the same shape: options merged with the global ones,
// examples at the end of its help, and one place that turns errors into exit codes.
import type { Command } from 'commander'
import type { GlobalOptions } from './context.ts'

/** Adds an "Examples:" section to a command's help. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`)
}

/** The options of the command being run, with the program's global ones. */
export function optionsOf<T>(args: unknown[]): T & GlobalOptions {
  const command = args.at(-1) as Command
  return command.optsWithGlobals() as T & GlobalOptions
}
