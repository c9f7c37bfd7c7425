// The page for a `?store=` this daemon does not have: it says so in a sentence, lists the stores
// there are, and gives the CLI command that makes the name exist (create it, or follow an id).
import { $, item } from './format.ts'
import { type StoreChoice, storeParam, storeUrl } from './store-picker.ts'

/** `text` as one shell word: quoted unless it is plain. */
function shellWord(text: string): string {
  return /^[\w.-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}

export function showUnknownStore(wanted: string | undefined, stores: readonly StoreChoice[], cli: string): void {
  $('app').hidden = true
  const badge = $('connection')
  badge.dataset.state = 'error'
  badge.textContent = 'no such store'
  $('unknown-store').hidden = false
  const isId = wanted?.startsWith('k51') === true
  $('unknown-what').textContent =
    wanted === undefined
      ? 'This daemon has no stores yet.'
      : `There is no store ${isId ? 'with the id' : 'named'} "${wanted}" on this daemon.`
  $('unknown-list').replaceChildren(
    ...stores.map((store) => {
      const li = item('')
      const link = document.createElement('a')
      link.href = storeUrl(storeParam(store))
      link.textContent = storeParam(store)
      li.append(link, ` (${store.role})`)
      return li
    }),
  )
  $('unknown-none').hidden = stores.length > 0
  $('unknown-hint-text').textContent = isId ? 'To follow it, run on the daemon:' : 'To create it, run on the daemon:'
  $('unknown-hint').textContent = isId
    ? `${cli} store follow ${shellWord(wanted ?? '')}`
    : `${cli} store create --name ${shellWord(wanted ?? 'notes')}`
}
