// Types for tools/build-cli.mjs (plain JavaScript: the tools run before anything is compiled).
export declare const BUNDLE: string
export declare const SOURCES: readonly string[]
export declare function cliStale(): boolean
export declare function buildCli(options?: {
  force?: boolean
  outfile?: string
  metafile?: boolean
}): Promise<boolean | object>
