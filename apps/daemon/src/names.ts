// Local names of stores (`demo`, `notes`): what a name may be. Checked before anything is
// created or followed under it, so a refused name changes nothing.
import { ApiError } from './api.ts'

const NAME = /^[A-Za-z0-9._-]{1,64}$/

export class InvalidNameError extends ApiError {
  override name = 'InvalidNameError'

  constructor(name: unknown) {
    super(
      'bad-request',
      `store name ${JSON.stringify(name)}: use 1-64 of letters, digits, ".", "_" and "-", not starting with k51`,
    )
  }
}

/** Throws InvalidNameError unless `name` can name a store: it must not look like a store id. */
export function checkStoreName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name) || name.startsWith('k51')) throw new InvalidNameError(name)
}
