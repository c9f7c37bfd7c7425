// Types for tools/build-packages.mjs (plain JavaScript: the tools run before anything is compiled).
export declare const PUBLISHED: readonly string[]
export declare function buildPackages(): Promise<void>
export declare function packPackages(into: string): Promise<Record<string, string>>
