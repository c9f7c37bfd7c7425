// Substring search over a whole store without freezing the page: keys are read in chunks, the
// page gets the main thread back between chunks, and a new search cancels the one running.
import type { KeyInfo, KeyRange } from '@dagsync/store'

export interface ScanOptions {
  /** Keys read per chunk. @default 500 */
  readonly chunk?: number
  /** Aborting it stops the scan before its next chunk; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal
  /** Told after each chunk: keys read so far, and how many matched. */
  readonly onProgress?: (scanned: number, matched: number) => void
}

/** The keys (with metadata) `match` accepts, in key order, read `chunk` at a time from `keys`. */
export async function scanKeys(
  keys: (range: KeyRange) => AsyncIterable<KeyInfo>,
  match: (info: KeyInfo) => boolean,
  options: ScanOptions = {},
): Promise<KeyInfo[]> {
  const chunk = options.chunk ?? 500
  const found: KeyInfo[] = []
  let scanned = 0
  let after: KeyInfo['key'] | undefined
  for (;;) {
    options.signal?.throwIfAborted()
    let read = 0
    for await (const info of keys({ ...(after === undefined ? {} : { gt: after }), limit: chunk })) {
      read++
      after = info.key
      if (match(info)) found.push(info)
    }
    scanned += read
    options.onProgress?.(scanned, found.length)
    if (read < chunk) return found
    // Input, clicks and painting run here, between chunks.
    await new Promise((resolve) => setTimeout(resolve, 0))
  }
}
