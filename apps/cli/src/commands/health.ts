// health: is the daemon up and well? What a container's HEALTHCHECK and a systemd unit's
// readiness check run (see docs/deploy.md): exit 0 when /health answers ok, 5 otherwise.
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { daemonApi, repoOf } from '../context.ts'
import { nodeGet } from '../http-post.ts'
import { EXIT, plural, print, printJson, ReportedFailure } from '../output.ts'

interface Health {
  readonly status: string
  readonly problem?: string
  readonly peerId?: string
  readonly uptimeSeconds?: number
  readonly peers?: number
  readonly stores?: number
}

/** One look at /health: the answer, or why there is none. */
async function check(options: Parameters<typeof daemonApi>[0]): Promise<Health | string> {
  const daemon = await daemonApi(options)
  if (daemon === undefined) return `no daemon is running on the repo ${await repoOf(options)}`
  try {
    const { status, text } = await nodeGet(`${daemon.url}/health`)
    const health = JSON.parse(text) as Health
    return status === 200 ? health : `the daemon at ${daemon.url} is ${health.status}: ${health.problem ?? status}`
  } catch (err) {
    return `cannot reach the daemon at ${daemon.url}${daemon.source === undefined ? '' : ` (from ${daemon.source})`}: ${(err as Error).message}`
  }
}

export function healthCommand(program: Command): void {
  examples(
    program
      .command('health')
      .description('Check that the daemon is up and well (its /health): exit 0 if so, 5 if not')
      .option('--wait <seconds>', 'keep asking until it is, for at most this long (a service starting)')
      .action(async (...args) => {
        const options = optionsOf<{ wait?: string }>(args)
        const waitMs = options.wait === undefined ? 0 : Number(options.wait) * 1000
        if (!Number.isFinite(waitMs) || waitMs < 0)
          throw new ReportedFailure('--wait must be a number of seconds', EXIT.usage)
        const deadline = Date.now() + waitMs
        let result = await check(options)
        while (typeof result === 'string' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 200))
          result = await check(options)
        }
        if (typeof result === 'string') throw new ReportedFailure(result, EXIT.unavailable)
        if (options.json === true) printJson(result)
        else
          print(
            `ok  peer ${result.peerId}  up ${result.uptimeSeconds}s  ${plural(result.peers ?? 0, 'peer')}  ${plural(result.stores ?? 0, 'store')}`,
          )
      }),
    ['dagsync health', 'dagsync health --wait 60   # until a daemon that is starting is ready'],
  )
}
