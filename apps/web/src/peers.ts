// The peers list: each peer the page's node is connected to, the address it reached it at, and
// which one writes the store shown (the daemon that served the page, when it is the writer).
import type { ConnectedPeer } from '@dagsync/browser'
import { $, cell } from './format.ts'

/** Shows `peers`; `writer` is the peer id of the store's writer, if the page knows it. */
export function renderPeers(peers: readonly ConnectedPeer[], writer: string | undefined): void {
  const rows = peers.map(({ peer, address }) => {
    const row = document.createElement('tr')
    row.dataset.peer = peer
    const role = peer === writer ? 'writer of this store' : 'peer'
    row.dataset.role = peer === writer ? 'writer' : 'peer'
    row.append(cell(role), cell(peer), cell(address))
    return row
  })
  $('peers-table')
    .querySelector('tbody')
    ?.replaceChildren(...rows)
  $('peers-empty').hidden = rows.length > 0
}
