// Browsers have no synchronous native sha2-256 (WebCrypto's is asynchronous): WebAssembly it is.
export const nativeSha256: ((bytes: Uint8Array) => Uint8Array) | undefined = undefined
