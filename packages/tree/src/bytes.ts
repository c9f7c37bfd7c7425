// Blockstores and streams hand bytes over in chunks; most callers want them whole.

/** The parts joined into one byte string (a single part is returned as it is, not copied). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** All of `source`'s chunks, joined (bytes given whole are returned as they are). */
export async function collectBytes(
  source: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return concatBytes(parts)
}
