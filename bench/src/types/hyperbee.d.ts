// Minimal types for hypercore 11 and hyperbee 2, which ship none: only what bench/src/subjects/hyperbee.ts uses.

declare module 'hypercore' {
  export default class Hypercore {
    constructor(storage: string, options?: Record<string, unknown>)
    readonly length: number
    readonly byteLength: number
    ready(): Promise<void>
    close(): Promise<void>
    treeHash(length?: number): Promise<Uint8Array>
  }
}

declare module 'hyperbee' {
  import type Hypercore from 'hypercore'

  export interface HyperbeeNode<K, V> {
    seq: number
    key: K
    value: V
  }

  export interface HyperbeeBatch<K, V> {
    put(key: K, value?: V): Promise<void>
    flush(): Promise<void>
  }

  export default class Hyperbee<K = unknown, V = unknown> {
    constructor(core: Hypercore, options?: { keyEncoding?: string; valueEncoding?: string })
    readonly core: Hypercore
    readonly version: number
    ready(): Promise<void>
    close(): Promise<void>
    get(key: K): Promise<HyperbeeNode<K, V> | null>
    put(key: K, value?: V): Promise<void>
    batch(): HyperbeeBatch<K, V>
    createDiffStream(
      otherVersion: number,
    ): AsyncIterable<{ left: HyperbeeNode<K, V> | null; right: HyperbeeNode<K, V> | null }>
  }
}
