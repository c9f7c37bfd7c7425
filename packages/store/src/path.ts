// Paths into values, for getIn / assocIn / updateIn: string segments index maps, number
// segments index lists. Updates copy along the path and never mutate the value given.
import { CID } from 'multiformats/cid'
import { InvalidPathError } from './errors.ts'

export type Segment = string | number

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

/** The value at `path` inside `value`, or undefined where the path leads nowhere. */
export function getPath(value: unknown, path: readonly Segment[]): unknown {
  let at = value
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(at)) return undefined
      at = at[segment]
    } else {
      if (!isMap(at) || !Object.hasOwn(at, segment)) return undefined
      at = at[segment]
    }
  }
  return at
}

/**
 * `value` with `leaf` at `path`. Missing maps along a string path are created; a number segment
 * must index an existing list (or append, at its length).
 */
export function setPath(value: unknown, path: readonly Segment[], leaf: unknown, walked = 0): unknown {
  if (walked === path.length) return leaf
  const segment = path[walked]
  if (typeof segment === 'number') {
    if (!Array.isArray(value)) {
      throw new InvalidPathError(
        `path segment ${walked + 1} (${segment}) indexes a list, but the value there is not one`,
      )
    }
    if (!Number.isInteger(segment) || segment < 0 || segment > value.length) {
      throw new InvalidPathError(`list index ${segment} is outside 0..${value.length}`)
    }
    const copy = value.slice()
    copy[segment] = setPath(value[segment], path, leaf, walked + 1)
    return copy
  }
  if (value !== undefined && !isMap(value)) {
    throw new InvalidPathError(
      `path segment ${walked + 1} ("${segment}") indexes a map, but the value there is not one`,
    )
  }
  const map = value ?? {}
  const child = Object.hasOwn(map, segment) ? map[segment] : undefined
  return { ...map, [segment]: setPath(child, path, leaf, walked + 1) }
}
