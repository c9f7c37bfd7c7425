// Bulk writes: a list of operations applied as one transaction, one commit. The same op type,
// validator and limits serve the store (`transact(ops)`), remote writes through a writer
// (followers, browsers) and the daemon's API, so a list one of them accepts, the others accept.
import {
  collectCids,
  decodeCbor,
  encodeValue,
  InvalidKeyError,
  InvalidValueError,
  type KeyInput,
  toKey,
} from '@dagsync/tree'
import { CID } from 'multiformats/cid'
import { ASSOC_CHECKED, type CheckedValue } from './checked-value.ts'
import { InvalidPathError, StoreError } from './errors.ts'
import { EncodedPut, splitPut } from './op-cbor.ts'
import type { Segment } from './path.ts'
import type { Transaction } from './transaction.ts'

/**
 * One write of a bulk call. `put-bytes` writes a binary value (as `bassoc`); `put-ref` writes the
 * binary value whose bytes `ref` names, without the bytes being sent again (see `bassocRef`).
 */
export type WriteOp =
  | { readonly op: 'put'; readonly key: KeyInput; readonly value: unknown }
  | { readonly op: 'put-in'; readonly key: KeyInput; readonly path: readonly Segment[]; readonly value: unknown }
  | { readonly op: 'delete'; readonly key: KeyInput }
  | { readonly op: 'put-bytes'; readonly key: KeyInput; readonly bytes: Uint8Array }
  | { readonly op: 'put-ref'; readonly key: KeyInput; readonly ref: CID }

/** The most ops one bulk call may carry. */
export const MAX_BULK_OPS = 10_000

/**
 * The most bytes of keys, paths and values (as DAG-CBOR; a `put-bytes` op's bytes, a `put-ref`
 * op's CID) one bulk call may carry: 1 MiB. Within it and MAX_BULK_OPS, the ops and their
 * framing fit in one 2 MiB remote-write message, so a list the store takes, its writer takes from
 * a follower. Larger binary values are staged (`stageBytes`) and placed with `put-ref`.
 */
export const MAX_BULK_BYTES = 1024 * 1024

/** An op that is malformed, or whose key, path or value the store refuses; `index` is its place in the list. */
export class InvalidOpError extends StoreError {
  readonly index: number

  constructor(index: number, message: string, options?: ErrorOptions) {
    super(message, options)
    this.index = index
  }
}

/** A bulk call over MAX_BULK_OPS or MAX_BULK_BYTES; `index` is the first op past the limit. */
export class BulkTooLargeError extends StoreError {
  readonly index: number
  readonly limit: 'ops' | 'bytes'

  constructor(index: number, limit: 'ops' | 'bytes') {
    super(
      `ops[${index}] is past the limit of one bulk call (${
        limit === 'ops' ? `${MAX_BULK_OPS} ops` : `${MAX_BULK_BYTES / 1024 / 1024} MiB of keys, paths and values`
      }): split the list into several calls (\`dagsync import\` commits in batches), and place large binary values by reference (stageBytes, put-ref)`,
    )
    this.index = index
    this.limit = limit
  }
}

const FIELDS: Readonly<Record<WriteOp['op'], readonly string[]>> = {
  put: ['op', 'key', 'value'],
  'put-in': ['op', 'key', 'path', 'value'],
  delete: ['op', 'key'],
  'put-bytes': ['op', 'key', 'bytes'],
  'put-ref': ['op', 'key', 'ref'],
}

/** How an op is named in errors: its place, kind and key. */
export function describeOp(op: { readonly op?: unknown; readonly key?: unknown }, index: number): string {
  const key =
    typeof op.key === 'string'
      ? JSON.stringify(op.key.length > 64 ? `${op.key.slice(0, 64)}…` : op.key)
      : op.key instanceof Uint8Array
        ? `0x${[...op.key.subarray(0, 32)].map((b) => b.toString(16).padStart(2, '0')).join('')}`
        : undefined
  return `ops[${index}]${typeof op.op === 'string' && key !== undefined ? ` (${op.op} ${key})` : ''}`
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

function isSegment(segment: unknown): segment is Segment {
  return typeof segment === 'string' || (Number.isSafeInteger(segment) && (segment as number) >= 0)
}

/** Refuses a malformed op, named only now: describing every op would cost a bulk write more than checking it. */
function refuseOp(input: Record<string, unknown>, index: number, problem: string): never {
  throw new InvalidOpError(index, `${describeOp(input, index)}: ${problem}`)
}

/**
 * Checks the shape of one op from anywhere (an application, DAG-CBOR from a peer, DAG-JSON from
 * an HTTP body): a map with `op` one of the five kinds and exactly that kind's fields. Values
 * are checked when the op is measured (`opBytes`) and written.
 */
export function parseOp(input: unknown, index: number): WriteOp {
  if (!isPlainMap(input)) throw new InvalidOpError(index, `ops[${index}] is not a map like {op: 'put', key, value}`)
  const kind = input.op
  const fields = typeof kind === 'string' && Object.hasOwn(FIELDS, kind) ? FIELDS[kind as WriteOp['op']] : undefined
  if (fields === undefined) refuseOp(input, index, `"op" must be one of ${Object.keys(FIELDS).join(', ')}`)
  for (const field of Object.keys(input)) {
    if (!fields.includes(field))
      refuseOp(input, index, `a ${kind} op has no field "${field}" (it has ${fields.join(', ')})`)
  }
  for (const field of fields) {
    if (input[field] === undefined) refuseOp(input, index, `a ${kind} op needs "${field}"`)
  }
  if (typeof input.key !== 'string' && !(input.key instanceof Uint8Array))
    refuseOp(input, index, `"key" must be a string or bytes`)
  if (kind === 'put-in' && !(Array.isArray(input.path) && input.path.every(isSegment)))
    refuseOp(input, index, `"path" must be a list of map keys (strings) and list indexes`)
  if (kind === 'put-bytes' && !(input.bytes instanceof Uint8Array)) refuseOp(input, index, `"bytes" must be bytes`)
  if (kind === 'put-ref' && CID.asCID(input.ref) === null) refuseOp(input, index, `"ref" must be a CID`)
  return input as unknown as WriteOp
}

/** Why a write failed, as an InvalidOpError naming the op, when the op is to blame; else the error as it is. */
export function opError(err: unknown, op: Pick<WriteOp, 'op' | 'key'>, index: number): unknown {
  if (err instanceof InvalidOpError) return err
  if (err instanceof InvalidValueError || err instanceof InvalidKeyError || err instanceof InvalidPathError)
    return new InvalidOpError(index, `${describeOp(op, index)}: ${err.message}`, { cause: err })
  return err
}

const utf8 = new TextEncoder()

/** Work between yields to the event loop: other requests wait at most about this long. */
const SLICE_MS = 10

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0))

/** What an op counts against MAX_BULK_BYTES, and a put's value as measured (see opBytes). */
function measureOp(op: WriteOp, index: number): { bytes: number; encoding?: Uint8Array } {
  try {
    let bytes = toKey(op.key).length
    if (op.op === 'put') {
      const encoding = encodeValue(op.value)
      return { bytes: bytes + encoding.length, encoding }
    }
    if (op.op === 'put-in') {
      bytes += encodeValue(op.value).length
      for (const s of op.path) bytes += typeof s === 'string' ? utf8.encode(s).length : 9
    }
    if (op.op === 'put-bytes') bytes += op.bytes.length
    if (op.op === 'put-ref') bytes += op.ref.bytes.length
    return { bytes }
  } catch (err) {
    throw opError(err, op, index)
  }
}

/**
 * What an op counts against MAX_BULK_BYTES: its key, its path, and its value as DAG-CBOR (a
 * `put-bytes` op's bytes, a `put-ref` op's CID). Encoding checks the value against the data
 * model and the limits, so a bad value fails here, naming the op.
 */
export function opBytes(op: WriteOp, index: number): number {
  return measureOp(op, index).bytes
}

/** Counts a bulk call's ops and bytes as they come, refusing the first op past a limit. */
export class BulkBudget {
  ops = 0
  bytes = 0

  /**
   * Counts `op` (the `index`th); throws BulkTooLargeError if it goes past a limit. Returns a
   * put's value as encoded to measure it.
   */
  add(op: WriteOp, index: number): Uint8Array | undefined {
    const { bytes, encoding } = measureOp(op, index)
    this.count(bytes, index)
    return encoding
  }

  /** Counts the `index`th op, of `bytes` as opBytes measures them; throws BulkTooLargeError past a limit. */
  count(bytes: number, index: number): void {
    if (this.ops + 1 > MAX_BULK_OPS) throw new BulkTooLargeError(index, 'ops')
    if (this.bytes + bytes > MAX_BULK_BYTES) throw new BulkTooLargeError(index, 'bytes')
    this.ops++
    this.bytes += bytes
  }
}

/**
 * A list of ops checked whole, built one op at a time (`add`): each op's shape and value, and
 * the list against the limits. Each put's value is kept as the check encoded it and written so
 * (`applyTo`): a value is encoded once, and a value changed after its check cannot be written
 * unchecked.
 */
export class CheckedOps {
  /** The ops; a put taken as DAG-CBOR whose value was not decoded is held as an EncodedPut. */
  readonly #ops: (WriteOp | EncodedPut)[] = []
  readonly #values: (CheckedValue | undefined)[] = []
  readonly #budget = new BulkBudget()

  /** Checks the next op (any input: see parseOp) and counts it; throws naming it. */
  add(input: unknown): void {
    const index = this.#ops.length
    const op = parseOp(input, index)
    const encoding = this.#budget.add(op, index)
    // Only a put has its encoding kept; its links are read here, not by a budget that only counts.
    this.#values.push(
      op.op === 'put' && encoding !== undefined ? { encoding, links: collectCids(op.value) } : undefined,
    )
    this.#ops.push(op)
  }

  /**
   * Checks the next op given as its DAG-CBOR, as `add` does its decoding; a put's value is kept
   * as the bytes it came in when they are what encodeValue would write (see splitPut), so it is
   * neither decoded nor encoded. Throws MalformedNodeError if the bytes are not DAG-CBOR.
   */
  addCbor(bytes: Uint8Array): void {
    const put = splitPut(bytes)
    if (put === undefined) {
      this.add(decodeCbor(bytes))
      return
    }
    this.#budget.count(put.bytes, this.#ops.length)
    this.#values.push(put)
    this.#ops.push(put)
  }

  /** The ops as plain data (to send on to a writer), values decoded where they were not. */
  get ops(): readonly WriteOp[] {
    return this.#ops.map((op) => (op instanceof EncodedPut ? op.toOp() : op))
  }

  get length(): number {
    return this.#ops.length
  }

  /**
   * Applies the ops in a transaction, in order (a later op on a key sees the earlier ones). An
   * op the store refuses throws InvalidOpError naming it, which fails the whole transaction.
   */
  async applyTo(tx: Transaction): Promise<void> {
    let slice = performance.now()
    for (let index = 0; index < this.#ops.length; index++) {
      const op = this.#ops[index] as WriteOp | EncodedPut
      try {
        if (op.op === 'put') await tx[ASSOC_CHECKED](op.key, this.#values[index] as CheckedValue)
        else if (op.op === 'put-in') await tx.assocIn([op.key, ...op.path], op.value)
        else if (op.op === 'delete') await tx.dissoc(op.key)
        else if (op.op === 'put-bytes') await tx.bassoc(op.key, op.bytes)
        else await tx.bassocRef(op.key, op.ref)
      } catch (err) {
        throw opError(err, op, index)
      }
      // A list of 10,000 ops is tens of milliseconds of work: let other callers in meanwhile.
      if (performance.now() - slice > SLICE_MS) {
        await yieldToLoop()
        slice = performance.now()
      }
    }
  }
}

/** Checks a whole list (see CheckedOps); a list checked already is returned as it is. */
export function checkOps(ops: unknown): CheckedOps {
  if (ops instanceof CheckedOps) return ops
  if (!Array.isArray(ops)) throw new StoreError('a bulk write takes a list of ops')
  if (ops.length > MAX_BULK_OPS) throw new BulkTooLargeError(MAX_BULK_OPS, 'ops')
  const checked = new CheckedOps()
  for (const input of ops) checked.add(input)
  return checked
}
