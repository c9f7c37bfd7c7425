import { CID } from 'multiformats/cid'
import { InvalidValueError } from './errors.ts'

/**
 * Throws InvalidValueError, naming the path, if `value` is not in the IPLD data model as
 * JavaScript represents it: plain objects, arrays, strings, finite numbers, integers as
 * bigints, booleans, null, Uint8Array and CID. Class instances, other typed arrays, Maps, Dates,
 * undefined and functions are refused rather than silently encoded as something else.
 */
export function assertIpldValue(value: unknown, path = 'value'): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidValueError(`${path} is ${value}, which IPLD cannot represent`)
      return
    case 'object': {
      if (value === null || value instanceof Uint8Array) return
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) assertIpldValue(value[i], `${path}[${i}]`)
        return
      }
      if (CID.asCID(value) !== null) return
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as object).constructor?.name ?? 'an object with a custom prototype'
        throw new InvalidValueError(
          `${path} is a ${name}; only plain objects, arrays, strings, numbers, booleans, null, bytes and CIDs can be stored`,
        )
      }
      for (const key of Object.keys(value)) assertIpldValue((value as Record<string, unknown>)[key], `${path}.${key}`)
      return
    }
    default:
      throw new InvalidValueError(
        `${path} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which IPLD cannot represent`,
      )
  }
}
