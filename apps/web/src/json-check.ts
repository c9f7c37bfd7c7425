// The JSON editor's check: a value must be strict JSON (no trailing commas, one value) and valid
// DAG-JSON (`{"/": "<cid>"}` links, `{"/": {"bytes": "<base64>"}}` bytes, no repeated keys). A
// syntax error says where it is, by line and column.
import * as dagJson from '@ipld/dag-json'

export type JsonCheck =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false
      readonly message: string
      /** Where the syntax error is (1-based), when the parser said. */
      readonly line?: number
      readonly column?: number
    }

function positionIn(message: string): number | undefined {
  const match = /at position (\d+)/.exec(message)
  return match === null ? undefined : Number(match[1])
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position).split('\n')
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 }
}

/** Checks `text` as a value to write. */
export function checkJson(text: string): JsonCheck {
  if (text.trim() === '') return { ok: false, message: 'empty: write a value, e.g. "text", 42 or {"done": true}' }
  try {
    JSON.parse(text)
  } catch (err) {
    const message = (err as Error).message.replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, '')
    // V8 names the position for most errors; dag-json's parser does for the rest ("Unexpected token").
    let position = positionIn((err as Error).message)
    if (position === undefined) {
      try {
        dagJson.decode(new TextEncoder().encode(text))
      } catch (dagErr) {
        position = positionIn((dagErr as Error).message)
      }
    }
    const short = message.replace(/, ".*" is not valid JSON$/s, '')
    return position === undefined
      ? { ok: false, message: short }
      : { ok: false, message: short, ...lineAndColumn(text, position) }
  }
  try {
    return { ok: true, value: dagJson.decode(new TextEncoder().encode(text)) }
  } catch (err) {
    return { ok: false, message: `not valid DAG-JSON: ${(err as Error).message.replace(/^CBOR decode error: /, '')}` }
  }
}
