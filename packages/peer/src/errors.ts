/** Base class of the errors this package throws. */
export class PeerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A peer sent something that is not a valid message of our protocols. */
export class ProtocolError extends PeerError {}

/** An announcement was refused: not signed by the store's key, not newer, expired or malformed. */
export class InvalidAnnouncementError extends PeerError {}

/** No connected peer could provide blocks the reader needs (sparse reads, sync). */
export class NotAvailableOfflineError extends PeerError {}

/** A sync to a newer commit could not complete; the reader's state is unchanged. */
export class SyncFailedError extends PeerError {}

/** The writer refused a remote write: this peer is not on the store's allow-list. */
export class UnauthorizedError extends PeerError {}

/** The writer could not apply a remote write (bad ops, or its own failure); nothing changed. */
export class RemoteWriteError extends PeerError {}

/** The store id is not an IPNS name of an Ed25519 key. */
export class InvalidStoreIdError extends PeerError {}

/** The remote peer answered a request with an error (`code` says which, e.g. 'not-found'; `index`, which item of a list). */
export class RemoteError extends PeerError {
  readonly code: string
  readonly index: number | undefined

  constructor(code: string, message: string, index?: number) {
    super(`${code}: ${message}`)
    this.code = code
    this.index = index
  }
}

/** A delta was built on a block this peer's storage does not hold (a lying or confused peer). */
export class UnheldBaseError extends ProtocolError {}

/** A peer sent more for one sync than the reader's receive limits allow; the rest is refused. */
export class ReceiveLimitError extends PeerError {}

/** A fast-path reply stopped sending for longer than the reader's `syncTimeoutMs`. */
export class SyncStalledError extends PeerError {}
