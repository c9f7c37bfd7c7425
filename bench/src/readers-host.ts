// One process of the many-readers benchmark (run-readers.ts): it runs several reader nodes, each
// with its own identity and in-memory replica, all following one store, and records when each
// reader's head moved, and to which commit (run-readers.ts knows when each commit was made).
//   node bench/src/readers-host.ts <count> <store id> <peers, comma-separated> <seq>
// Each node dials the peers, follows the store and waits until it holds commit <seq>; then it
// prints `ready <JSON list of each node's first address> <ms from following to holding seq,
// the slowest node's>`; then, per stdin line:
//   links <n> <JSON list of every reader's address>   each node dials n other readers -> `linked <failed dials>`
//   report                                             -> `report <JSON {heads: [seq, ms since epoch][][]}>`
//   stop                                               stops the nodes and exits
import { createInterface } from 'node:readline'
import { DEFAULT_CONFIG } from '@dagsync/daemon'
import { createDagsyncNode, type DagsyncNode, type Follower } from '@dagsync/peer'
import { memoryStorage } from '@dagsync/store'

const [countArg, storeId, peersArg, seqArg] = process.argv.slice(2)
const count = Number(countArg)
const startSeq = Number(seqArg)
if (!Number.isInteger(count) || count < 1 || storeId === undefined || peersArg === undefined || !(startSeq >= 0))
  throw new Error('usage: readers-host.ts <count> <store id> <peers, comma-separated> <seq>')
const peers = peersArg.split(',')

interface Reader {
  readonly node: DagsyncNode
  readonly replica: Follower
  /** Each head this reader moved to: [seq, Date.now() then]. */
  readonly heads: [number, number][]
  /** From calling follow until the replica held the start seq. */
  readonly syncMs: number
}

async function startReader(): Promise<Reader> {
  const node = await createDagsyncNode({
    storage: memoryStorage(),
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    peers,
    // Readers dial each other in a burst, all from 127.0.0.1: they take connections as a daemon does.
    connectionLimits: DEFAULT_CONFIG.connections,
  })
  const started = performance.now()
  const replica = await node.follow(storeId as string)
  // A reader that does not get there in time is reported (NaN), not fatal to the run.
  const syncMs = await replica.synced(startSeq, AbortSignal.timeout(120_000)).then(
    () => performance.now() - started,
    () => Number.NaN,
  )
  // What it held at the start is not a commit it waited for: only later ones are timed.
  const reader: Reader = { node, replica, heads: [], syncMs }
  replica.store.onHead((head) => reader.heads.push([head.seq, Date.now()]))
  return reader
}

const readers = await Promise.all(Array.from({ length: count }, startReader))
const slowest = Math.max(...readers.map((r) => (Number.isNaN(r.syncMs) ? Number.POSITIVE_INFINITY : r.syncMs)))
process.stdout.write(`ready ${JSON.stringify(readers.map((r) => r.node.addresses[0]))} ${slowest.toFixed(0)}\n`)

let failedLinks = 0
for await (const line of createInterface({ input: process.stdin })) {
  const [command, ...rest] = line.split(' ')
  if (command === 'links') {
    const n = Number(rest[0])
    const all = JSON.parse(rest.slice(1).join(' ')) as string[]
    await Promise.all(
      readers.map(async (reader) => {
        const own = reader.node.addresses[0]
        const others = all.filter((address) => address !== own).sort(() => Math.random() - 0.5)
        for (const address of others.slice(0, n)) {
          reader.node.connect(address)
          await reader.node
            .connected(address.split('/p2p/')[1] as string, AbortSignal.timeout(30_000))
            .catch(() => failedLinks++)
        }
      }),
    )
    process.stdout.write(`linked ${failedLinks}\n`)
  } else if (command === 'report') {
    const report = { heads: readers.map((r) => r.heads) }
    process.stdout.write(`report ${JSON.stringify(report)}\n`)
  } else if (command === 'stop') {
    await Promise.all(readers.map((r) => r.node.stop()))
    process.exit(0)
  }
}
