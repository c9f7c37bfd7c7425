// An abort signal that fires only after a stretch of silence: a fast-path reply may take as long
// as it needs while it keeps sending, and is given up soon after it stops.
import { SyncStalledError } from './errors.ts'

export interface IdleTimeout {
  readonly signal: AbortSignal
  /** Something arrived: the silence starts again from now. */
  touch(): void
  /** Stops the timer (the request is over). */
  clear(): void
}

/** A signal that aborts with SyncStalledError once `touch` has not been called for `ms`. */
export function idleTimeout(ms: number): IdleTimeout {
  const controller = new AbortController()
  const fire = (): void => controller.abort(new SyncStalledError(`nothing arrived for ${ms} ms`))
  let timer = setTimeout(fire, ms)
  return {
    signal: controller.signal,
    touch: () => {
      clearTimeout(timer)
      timer = setTimeout(fire, ms)
    },
    clear: () => clearTimeout(timer),
  }
}
