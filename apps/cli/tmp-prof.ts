import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeWire, encodeWire } from '@dagsync/daemon/client'
import { BulkBudget, checkOps, openStore } from '@dagsync/store'
import { openLevelStorage } from '@dagsync/store/level'
import { readOpsBody } from '../daemon/src/ops-body.ts'
import { lineToOp } from './src/ndjson.ts'

const N = 100000
const key = (i: number) => `k${String(i).padStart(8, '0')}`
const lines = Array.from({ length: N }, (_, i) =>
  JSON.stringify({ key: key(i), value: { n: i, name: `user${i}`, tags: ['a', 'b'] } }),
)
let t = performance.now()
const ops = lines.map((l, i) => lineToOp(l, i + 1))
console.log('cli lineToOp', (performance.now() - t).toFixed(0))
t = performance.now()
for (const l of lines) JSON.parse(l)
console.log('  of which JSON.parse', (performance.now() - t).toFixed(0))
t = performance.now()
for (const l of lines) decodeWire(l)
console.log('  decodeWire alone', (performance.now() - t).toFixed(0))
t = performance.now()
let b = new BulkBudget()
ops.forEach((op, i) => {
  if (i % 10000 === 0) b = new BulkBudget()
  b.add(op, i % 10000)
})
console.log('cli budget', (performance.now() - t).toFixed(0))
t = performance.now()
const wires = ops.map((op) => `${encodeWire(op)}\n`)
console.log('cli encodeWire', (performance.now() - t).toFixed(0))
t = performance.now()
const parsed = []
for (let k = 0; k < 10; k++) {
  const part = new TextEncoder().encode(wires.slice(k * 10000, (k + 1) * 10000).join(''))
  const body = new ReadableStream({
    start(c) {
      for (let i = 0; i < part.length; i += 65536) c.enqueue(part.subarray(i, i + 65536))
      c.close()
    },
  })
  parsed.push(await readOpsBody(body))
}
console.log('daemon readOpsBody', (performance.now() - t).toFixed(0))
t = performance.now()
for (const p of parsed) checkOps(p)
console.log('daemon checkOps', (performance.now() - t).toFixed(0))
const storage = await openLevelStorage(await mkdtemp(join(tmpdir(), 'prof-')))
const db = await openStore({ storage, name: 'x' })
t = performance.now()
for (const p of parsed) await db.transact(p)
console.log('daemon transact x10', (performance.now() - t).toFixed(0))
const db2 = await openStore({ storage, name: 'y' })
t = performance.now()
await db2.transact(async (tx) => {
  for (let i = 0; i < N; i++) await tx.assoc(key(i), { n: i, name: `user${i}`, tags: ['a', 'b'] })
})
console.log('baseline single tx', (performance.now() - t).toFixed(0))
await storage.close()
