// What deploy/ and docs/deploy.md promise: the Dockerfile lints clean and is multi-stage with a
// non-root user, the repo as a volume and a health check; the systemd unit verifies; `dagsync
// health` is the readiness check both use; the metrics' names repeat no word and the sample
// Grafana dashboard uses only metrics /metrics has; the package managers print no update notices.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { validate } from 'dockerfile-utils'
import { cli, cliJson, DaemonProcess, Scratch } from './cli-helpers.ts'

const exec = promisify(execFile)
const root = join(import.meta.dirname, '..')
const scratch = new Scratch()
after(() => scratch.close())

describe('deploy/Dockerfile', () => {
  it('lints clean, builds in stages and runs as a non-root user with the repo as a volume and a health check', async () => {
    const text = await readFile(join(root, 'deploy', 'Dockerfile'), 'utf8')
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)
    assert.deepEqual(problems, [], 'dockerfile-utils finds nothing')
    // Instructions, with continuation lines joined.
    const lines = text
      .replace(/\\\n(\s*#.*\n)*/g, ' ')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    const stages = lines.filter((l) => l.startsWith('FROM ')).map((l) => / AS (\S+)$/i.exec(l)?.[1])
    assert.deepEqual(stages, ['build', 'run'])
    for (const l of lines.filter((l) => l.includes('--from='))) assert.match(l, /--from=build /, 'copies from a stage')
    const final = lines.slice(lines.findIndex((l) => l.startsWith('FROM ') && l.endsWith(' AS run')))
    const user = final.filter((l) => l.startsWith('USER ')).at(-1)
    assert.equal(user, 'USER dagsync')
    assert.ok(final.includes('VOLUME ["/data"]'))
    assert.ok(final.some((l) => l.startsWith('ENV ') && l.includes('DAGSYNC_PATH=/data')))
    assert.match(final.find((l) => l.startsWith('HEALTHCHECK ')) ?? '', /CMD \["dagsync", "health"\]$/)
    // What the run stage copies from the workspace is there (built outputs come from the build stage).
    for (const l of final.filter((l) => l.startsWith('COPY --from=build /app/'))) {
      const path = (/\/app\/(\S+)/.exec(l)?.[1] ?? '').replace(/\/$/, '')
      if (!path.endsWith('/dist') && path !== 'node_modules') assert.ok(existsSync(join(root, path)), path)
    }
  })
})

describe('deploy/dagsync.service', () => {
  it('passes systemd-analyze verify with nothing to say', {
    skip: !existsSync('/usr/bin/systemd-analyze'),
  }, async () => {
    // Its paths point at a checkout in /opt/dagsync; here, at this one (verify checks they exist).
    const unit = (await readFile(join(root, 'deploy', 'dagsync.service'), 'utf8')).replaceAll('/opt/dagsync', root)
    const dir = await scratch.dir()
    await writeFile(join(dir, 'dagsync.service'), unit)
    const { stdout, stderr } = await exec('systemd-analyze', ['verify', join(dir, 'dagsync.service')])
    assert.equal(stdout + stderr, '')
    assert.match(unit, /^ExecStartPost=.*dagsync health --wait \d+$/m, 'started once /health answers ok')
  })
})

describe('dagsync health', () => {
  it('exits 0 once the daemon answers ok (--wait waits for one that is starting), 5 with no daemon', async () => {
    const repo = await scratch.dir()
    const none = await cli(scratch, repo, ['health'])
    assert.equal(none.code, 5)
    assert.equal(none.stderr, `dagsync: no daemon is running on the repo ${repo}\n`)
    const waiting = cli(scratch, repo, ['health', '--wait', '120', '--json'])
    const daemon = await DaemonProcess.start(scratch, repo)
    const health = await waiting
    assert.equal(health.code, 0, health.stderr)
    assert.equal((JSON.parse(health.stdout) as { peerId: string }).peerId, (await daemon.ready).peerId)
    assert.match(
      (await cli(scratch, repo, ['health'])).stdout,
      /^ok {2}peer 12D3KooW\S+ {2}up \d+s {2}0 peers {2}1 store\n$/,
    )
  })
})

describe('metrics', () => {
  it('repeat no word in a name, label stores with their names, and have every metric the dashboard uses', async () => {
    const repo = await scratch.dir()
    const daemon = await DaemonProcess.start(scratch, repo)
    const { api, stores } = await daemon.ready
    const text = await (await fetch(`${api}/metrics`)).text()
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]))
    assert.ok(types.size > 20)
    for (const name of types.keys()) {
      const words = name.split('_')
      assert.equal(new Set(words).size, words.length, `${name} repeats a word`)
    }
    const demo = stores.find((s) => s.names.includes('demo'))?.id
    assert.match(text, new RegExp(`^dagsync_store_head_seq\\{store="${demo}",name="demo",role="writer"\\} 1$`, 'm'))
    await cliJson(scratch, repo, ['store', 'create'])
    const unnamed = await (await fetch(`${api}/metrics`)).text()
    assert.match(unnamed, /^dagsync_store_head_seq\{store="k51\w+",name="",role="writer"\} 0$/m)

    const dashboard = JSON.parse(await readFile(join(root, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[]
    }
    const used = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bdagsync_\w+/g) ?? [])),
    )
    assert.ok(used.size >= 15, `the dashboard uses ${used.size} metrics`)
    const exposed = (name: string) =>
      types.has(name) || types.get(name.replace(/_(bucket|sum|count)$/, '')) === 'histogram'
    assert.deepEqual(
      [...used].filter((name) => !exposed(name)),
      [],
      'dashboard metrics /metrics lacks',
    )
  })
})

describe('package managers', () => {
  it('print no update notices in this checkout, whatever the user config says', async () => {
    const home = await scratch.dir()
    await mkdir(join(home, '.config'), { recursive: true })
    // Without the npm_config_* variables `npm test` exports: its local_prefix would make npm read
    // this checkout's .npmrc in the home directory too.
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)),
    )
    Object.assign(env, { HOME: home, XDG_CONFIG_HOME: join(home, '.config') })
    const get = async (tool: string, cwd: string) =>
      (await exec(tool, ['config', 'get', 'update-notifier'], { cwd, env })).stdout.trim()
    assert.equal(await get('npm', root), 'false')
    assert.equal(await get('pnpm', root), 'false')
    assert.notEqual(await get('npm', home), 'false', 'outside the checkout, the default: the .npmrc is what does it')
  })
})

describe('log fields', () => {
  it('docs/daemon.md lists every field the daemon and the CLI log', async () => {
    const dirs = ['apps/daemon/src', 'apps/cli/src', 'apps/cli/src/commands'].map((d) => join(root, d))
    const fields = new Set<string>()
    for (const dir of dirs) {
      for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts'))) {
        const text = await readFile(join(dir, file), 'utf8')
        for (const call of text.matchAll(/\blog\??\.(?:trace|debug|info|warn|error|fatal)\(\s*\{([^}]*)\}/g))
          for (const part of (call[1] as string).split(','))
            if (part.trim() !== '') fields.add((/^\s*(\w+)/.exec(part)?.[1] as string) ?? part)
      }
    }
    assert.ok(fields.has('wireBytes') && fields.has('peer'), `the search finds the fields: ${[...fields]}`)
    // gc's report is logged whole: its fields are GcReport's.
    for (const field of ['commits', 'keptBlocks', 'deletedBlocks', 'deletedBytes']) fields.add(field)
    const docs = await readFile(join(root, 'docs', 'daemon.md'), 'utf8')
    const table = /## Logs\n([\s\S]*?)\n## /.exec(docs)?.[1] ?? ''
    const documented = new Set(
      [...table.matchAll(/^\| ([^|]+)\|/gm)].flatMap((m) =>
        [...(m[1] as string).matchAll(/`(\w+)`/g)].map((f) => f[1]),
      ),
    )
    assert.deepEqual(
      [...fields].filter((f) => !documented.has(f)),
      [],
      'logged but not documented',
    )
  })
})
