// A value that comes already encoded (a bulk write's op in DAG-CBOR) is stored as it came when
// its bytes are exactly what encodeValue writes for the value they decode to: decoding it only
// to encode it again would cost a bulk write most of its time, and give the same bytes.
import type { CID } from 'multiformats/cid'
import { CborReader } from './cbor.ts'
import { linkProblem } from './ipld.ts'
import { MAX_VALUE_DEPTH } from './limits.ts'

/**
 * The links in `bytes`, one DAG-CBOR item, if encodeValue would write these very bytes for the
 * value they decode to; undefined if it would not or they are refused: not canonical DAG-CBOR,
 * nested deeper than MAX_VALUE_DEPTH, a float64 holding an integer (decoded as a number that
 * encodeValue writes as an integer), or a link walks cannot follow. Callers then decode and
 * encode the value, which names what is wrong with it.
 */
export function encodedValueLinks(bytes: Uint8Array): CID[] | undefined {
  const reader = new CborReader(bytes, MAX_VALUE_DEPTH)
  const links: CID[] = []
  try {
    reader.item(links)
  } catch {
    return undefined
  }
  if (!reader.done || reader.integralFloat) return undefined
  for (const link of links) if (linkProblem(link.bytes) !== undefined) return undefined
  return links
}

/**
 * Where the DAG-CBOR item at `at` in `bytes` ends, checked as any item is (well-formed,
 * canonical); undefined if there is no such item there.
 */
export function itemEnd(bytes: Uint8Array, at: number): number | undefined {
  const reader = new CborReader(bytes)
  reader.pos = at
  try {
    reader.item()
  } catch {
    return undefined
  }
  return reader.pos
}
