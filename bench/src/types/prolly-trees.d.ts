// Minimal types for prolly-trees 1.0.4, which ships none: only what bench/src/subjects/prolly-trees.ts uses.

declare module 'prolly-trees/map' {
  import type { BlockView } from 'multiformats/block/interface'
  import type { CID } from 'multiformats/cid'

  export interface ProllyBlock {
    cid: CID
    bytes: Uint8Array
    value: unknown
  }

  export interface ProllyEntry {
    key: string
    value?: unknown
    address?: CID | Promise<CID>
  }

  export interface ProllyNode {
    readonly isLeaf?: true
    readonly isBranch?: true
    distance: number
    address: CID | Promise<CID>
    block: ProllyBlock | Promise<ProllyBlock>
    entryList: { entries: ProllyEntry[]; closed: boolean }
    getNode(cid: CID): Promise<ProllyNode>
    get(key: string): Promise<{ result: unknown }>
    bulk(
      ops: Array<{ key: string; value?: unknown; del?: boolean }>,
      opts?: { sorted?: boolean },
    ): Promise<{ root: ProllyNode; blocks: ProllyBlock[] }>
  }

  export interface ProllyCache {
    has(cid: CID): boolean
    get(cid: CID): ProllyNode
    set(node: ProllyNode): unknown
  }

  export interface ProllyOptions {
    get(cid: CID): Promise<ProllyBlock | BlockView<unknown, number, number, 1>>
    cache: ProllyCache
    chunker: (entry: unknown, distance: number) => Promise<boolean>
    codec: unknown
    hasher: unknown
    compare(a: string, b: string): number
  }

  export function create(
    opts: ProllyOptions & { list: Array<{ key: string; value: unknown }>; sorted?: boolean },
  ): AsyncGenerator<ProllyNode>
  export function load(opts: ProllyOptions & { cid: CID }): Promise<ProllyNode>
}

declare module 'prolly-trees/utils' {
  export function bf(factor: number): (entry: unknown, distance: number) => Promise<boolean>
  export function simpleCompare(a: unknown, b: unknown): number
}
