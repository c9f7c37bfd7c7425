// The todo app: find the daemon, start a dagsync peer for this page (its replica, identity and
// data live in IndexedDB), follow the store, and wire the form.
import { startBrowserPeer } from '@dagsync/browser'
import { loadTarget } from './config.ts'
import { TodoList } from './todos.ts'

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (found === null) throw new Error(`the page has no #${id}`)
  return found as T
}

async function main(): Promise<void> {
  const status = element<HTMLElement>('status')
  const target = await loadTarget(location.search)
  const peer = await startBrowserPeer({ peers: target.peers, database: 'dagsync-todo' })
  const follower = await peer.follow(target.storeId)
  const peerId = peer.peerId.toString()
  const todos = new TodoList({
    follower,
    list: element<HTMLUListElement>('todos'),
    message: element<HTMLElement>('message'),
    allowCommand: `${target.cli} store allow ${target.storeName} ${peerId}`,
  })

  const form = element<HTMLFormElement>('add')
  const title = element<HTMLInputElement>('title')
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = title.value.trim()
    if (text === '') return
    title.value = ''
    void todos.add(text)
  })

  status.dataset.state = 'following'
  status.dataset.peer = peerId
  status.textContent = `Store ${target.storeName}, from ${target.peers[0] ?? 'no daemon'}; this browser is ${peerId}`
  await todos.follow()
}

main().catch((err: unknown) => {
  const status = document.getElementById('status')
  if (status !== null) {
    status.dataset.state = 'error'
    status.textContent = `Failed to start: ${err instanceof Error ? err.message : String(err)}`
  }
  console.error(err)
})
