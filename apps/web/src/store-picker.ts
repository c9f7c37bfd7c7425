// The store picker: the stores the daemon that served the page lists (its /config.json), or any
// store id typed in. Picking one loads the page for it, with `?store=` in the URL.
import { $ } from './format.ts'

export interface StoreChoice {
  readonly id: string
  readonly names: readonly string[]
  readonly role: string
}

/** What `?store=` names a store by: its first local name, else its id. */
export function storeParam(store: StoreChoice): string {
  return store.names[0] ?? store.id
}

export function storeUrl(param: string): string {
  const url = new URL(location.href)
  url.search = `?store=${encodeURIComponent(param)}`
  return url.toString()
}

/** Fills the picker with `stores`, `current` selected, and goes to a store when one is picked. */
export function wireStorePicker(stores: readonly StoreChoice[], current: string | undefined): void {
  const select = $<HTMLSelectElement>('store-select')
  // Until a store is picked (an unknown one was asked for), the picker says so.
  const none = document.createElement('option')
  none.value = ''
  none.textContent = 'pick a store'
  none.disabled = true
  none.selected = current === undefined
  select.replaceChildren(
    ...(current === undefined ? [none] : []),
    ...stores.map((store) => {
      const option = document.createElement('option')
      option.value = storeParam(store)
      option.textContent = `${storeParam(store)} (${store.role})`
      option.selected = store.id === current
      return option
    }),
  )
  select.addEventListener('change', () => location.assign(storeUrl(select.value)))
  $('store-open').addEventListener('submit', (event) => {
    event.preventDefault()
    const typed = $<HTMLInputElement>('store-id').value.trim()
    if (typed !== '') location.assign(storeUrl(typed))
  })
}
