// The writer of the sync benchmark, in its own process: a store of <keys> keys (default 100,000)
// on LevelDB, driven over stdin.
//   node sync-writer.ts <dir> <port> <path: push|fast|bitswap> [keys]
// (push: announcements carry the new blocks; fast: readers ask over the fast path; bitswap: neither)
// prints `ready <address> <store id> <seq>`, then per stdin line:
//   change <n>              one commit of n random keys                  -> `head <seq> <time>`
//   tick <n> <interval ms>  n single-key commits, one every interval      -> `commit <seq> <time>` each, then `done`
//   quit                                                                 -> `rss <peak RSS, MiB>`
import { createInterface } from 'node:readline'
import { createDagsyncNode } from '@dagsync/peer'
import { openLevelStorage } from '@dagsync/store/level'
import { serveRawStream } from './raw-stream.ts'
import { key, value } from './subject.ts'

const [dir, port, path, keys = '100000'] = process.argv.slice(2)
const KEYS = Number(keys)
const storage = await openLevelStorage(dir)
const node = await createDagsyncNode({
  storage,
  listen: [`/ip4/127.0.0.1/tcp/${port}/ws`],
  serveSync: path !== 'bitswap',
  pushMaxBytes: path === 'push' ? 128 * 1024 : 0,
})
await serveRawStream(node.libp2p)
let id: string | undefined
for await (const existing of node.writableStores()) id ??= existing
const served = id === undefined ? await node.createStore() : await node.serve(id)
if (served.store.head === null) {
  for (let b = 0; b < KEYS; b += 10_000) {
    await served.store.transact(async (tx) => {
      for (let i = b; i < Math.min(KEYS, b + 10_000); i++) await tx.assoc(key(i), value(i))
    })
  }
}
const say = (line: string) => process.stdout.write(`${line}\n`)
say(`ready ${node.addresses[0]} ${served.id} ${served.store.head?.seq}`)

let n = 0
for await (const line of createInterface({ input: process.stdin })) {
  const [command, a, b] = line.trim().split(' ')
  if (command === 'change') {
    await served.store.transact(async (tx) => {
      for (let i = 0; i < Number(a); i++) {
        const k = Math.floor(Math.random() * KEYS)
        await tx.assoc(key(k), { ...value(k), name: `changed${n++}` })
      }
    })
    say(`head ${served.store.head?.seq} ${Date.now()}`)
  } else if (command === 'tick') {
    for (let i = 0; i < Number(a); i++) {
      await served.store.assoc(`tick/${n++}`, { at: Date.now() })
      say(`commit ${served.store.head?.seq} ${Date.now()}`)
      await new Promise((resolve) => setTimeout(resolve, Number(b)))
    }
    say('done')
  } else if (command === 'quit') {
    say(`rss ${process.resourceUsage().maxRSS / 1024}`)
    break
  }
}
await node.stop()
await storage.close()
process.stdin.destroy()
