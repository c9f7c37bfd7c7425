// How the page shows things: keys (text, or hex for byte keys), values as indented JSON (DAG-JSON
// for bytes and links), sizes, short CIDs, and a lookup for the page's elements.
import * as dagJson from '@ipld/dag-json'

export type StoreKey = string | Uint8Array

/** The element with this id; the page's HTML has every one the app uses. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element as T
}

export function showKey(key: StoreKey): string {
  return typeof key === 'string' ? key : `0x${[...key].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

export function showValue(value: unknown): string {
  if (value === undefined) return '(absent)'
  return JSON.stringify(JSON.parse(new TextDecoder().decode(dagJson.encode(value))), null, 2)
}

/** A value on one line, for lists. */
export function showInline(value: unknown): string {
  return showValue(value).replace(/\s+/g, ' ')
}

export function showSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`
}

/** The last characters of a CID: enough to tell commits apart on screen. */
export function shortCid(cid: { toString(): string }): string {
  return `…${cid.toString().slice(-8)}`
}

export function cell(text: string): HTMLTableCellElement {
  const td = document.createElement('td')
  td.textContent = text
  return td
}

export function item(text: string): HTMLLIElement {
  const li = document.createElement('li')
  li.textContent = text
  return li
}
