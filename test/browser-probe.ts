// Modules of a test's own for a Chromium page (the web app itself only uses `startTabPeer`),
// bundled for the browser from the current sources with esbuild, the CLI's build tool.
import { writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { basename, join } from 'node:path'
import type { Scratch } from './cli-helpers.ts'

const root = join(import.meta.dirname, '..')

/** `@dagsync/browser`'s entry, for a probe's `import … from ${browserEntry}`. */
export const browserEntry = JSON.stringify(join(root, 'packages', 'browser', 'src', 'index.ts'))

/** What this uses of esbuild's API. */
interface Esbuild {
  build(options: object): Promise<{
    outputFiles: { path: string; text: string }[]
    metafile?: { outputs: Record<string, { inputs: Record<string, unknown> }> }
  }>
}

async function build(
  scratch: Scratch,
  source: string,
  options: object,
): Promise<Awaited<ReturnType<Esbuild['build']>>> {
  const require = createRequire(join(root, 'apps', 'cli', 'package.json'))
  const esbuild = (await import(require.resolve('esbuild'))) as Esbuild
  const dir = await scratch.dir('dagsync-probe-')
  const entry = join(dir, 'probe.ts')
  await writeFile(entry, source)
  return await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    ...options,
    absWorkingDir: dir,
  })
}

/** `source` as one script, its dynamic imports included (for `page.addScriptTag`). */
export async function bundleProbe(scratch: Scratch, source: string): Promise<string> {
  const built = await build(scratch, source, {})
  return built.outputFiles[0]?.text ?? ''
}

/** `source` split as the web app is: `probe.js` and one chunk per dynamic import, by file name. */
export interface ProbeChunks {
  readonly files: ReadonlyMap<string, string>
  /** The file name of the chunk that holds the module whose path ends with `suffix`. */
  chunkWith(suffix: string): string
}

export async function bundleProbeChunks(scratch: Scratch, source: string): Promise<ProbeChunks> {
  const built = await build(scratch, source, { splitting: true, outdir: 'out', metafile: true })
  const files = new Map(built.outputFiles.map((file) => [basename(file.path), file.text]))
  const outputs = Object.entries(built.metafile?.outputs ?? {})
  return {
    files,
    chunkWith(suffix) {
      const found = outputs.find(([, output]) => Object.keys(output.inputs).some((input) => input.endsWith(suffix)))
      if (found === undefined) throw new Error(`no chunk of the probe holds ${suffix}`)
      return basename(found[0])
    },
  }
}
