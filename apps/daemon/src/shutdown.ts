// Stopping the daemon whatever storage does. A stop is a list of steps (the HTTP server, queued
// commits, the node, the database); a step that fails does not keep the later ones from running,
// so a full disk that fails the node's last writes still gets the database closed. And a step
// that never ends (a database stuck in a failed compaction) cannot hold the process: after the
// deadline it exits anyway, saying where it was stuck. Acknowledged writes are durable by then
// whatever happens, since a commit is acknowledged only once it is synced.
import type { Logger } from 'pino'

/** One or more steps of a stop failed (each is logged as it fails); the others ran. */
export class ShutdownError extends Error {
  override name = 'ShutdownError'
  readonly failures: readonly { step: string; error: unknown }[]

  constructor(failures: readonly { step: string; error: unknown }[]) {
    super(
      `shutdown finished with errors: ${failures.map(({ step, error }) => `${step}: ${(error as Error).message ?? error}`).join('; ')}`,
    )
    this.failures = failures
  }
}

export interface Step {
  /** What the step does, as a message would say it: "closing the database". */
  readonly name: string
  readonly run: () => Promise<void>
}

/**
 * Runs the steps in order, each even if one before it failed; `onStep` is told which one is
 * running. Rejects with ShutdownError after the last step if any failed.
 */
export async function runSteps(steps: readonly Step[], log: Logger, onStep?: (name: string) => void): Promise<void> {
  const failures: { step: string; error: unknown }[] = []
  for (const step of steps) {
    onStep?.(step.name)
    try {
      await step.run()
    } catch (error) {
      log.error({ err: error, step: step.name }, `shutdown: ${step.name} failed`)
      failures.push({ step: step.name, error })
    }
  }
  if (failures.length > 0) throw new ShutdownError(failures)
}

/** How long a clean stop may take, by default: 10 s. */
export const SHUTDOWN_DEADLINE_MS = 10_000

export interface StopWithinOptions {
  /** How long the stop may take before giving up on it. @default SHUTDOWN_DEADLINE_MS */
  readonly deadlineMs?: number
}

/**
 * Stops the daemon, waiting at most the deadline. Resolves to the exit code the process should
 * end with: 0 after a clean stop, 1 if a step failed or the deadline passed (both logged, the
 * latter naming the step that did not finish). The caller exits with it: after a stop that did
 * not finish, something may still hold the event loop.
 */
export async function stopWithin(
  daemon: { stop(): Promise<void>; readonly stopStep: string | undefined; readonly log: Logger },
  options: StopWithinOptions = {},
): Promise<number> {
  const deadlineMs = options.deadlineMs ?? SHUTDOWN_DEADLINE_MS
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs)
  })
  try {
    const outcome = await Promise.race([daemon.stop().then(() => 'stopped' as const), deadline])
    if (outcome === 'stopped') return 0
    daemon.log.fatal(
      { step: daemon.stopStep, deadlineMs },
      `shutdown did not finish within ${deadlineMs / 1000} s (stuck ${daemon.stopStep ?? 'starting'}): exiting without it. ` +
        'Acknowledged writes are durable; the next start reopens the repo.',
    )
    return 1
  } catch (err) {
    daemon.log.error({ err }, 'shutdown failed; exiting')
    return 1
  } finally {
    clearTimeout(timer)
  }
}
