// Node's own sha2-256 (OpenSSL), for blocks: twice as fast as WebAssembly on a node-sized input,
// slower on a key. Chosen by the `node` condition of the package's `#native-sha256` import.
import { hash } from 'node:crypto'

export const nativeSha256: ((bytes: Uint8Array) => Uint8Array) | undefined = (bytes) => hash('sha256', bytes, 'buffer')
