// Announcements: a store's new head as a signed IPNS record (value `/ipfs/<commit CID>`,
// sequence = the commit's seq). The same bytes go over gossipsub for live readers and into
// IPNS for readers that start cold, and any peer may relay them: only the store's key can make
// a valid one.

import { DAG_CBOR } from '@dagsync/tree'
import * as dagCbor from '@ipld/dag-cbor'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { createIPNSRecord, marshalIPNSRecord, unmarshalIPNSRecord } from 'ipns'
import { validate } from 'ipns/validator'
import { CID } from 'multiformats/cid'
import { InvalidAnnouncementError } from './errors.ts'

export interface Announcement {
  readonly commit: CID
  readonly seq: number
  /** When the record stops being valid, ms since the epoch. */
  readonly expires: number
  /** The marshalled, signed IPNS record. */
  readonly bytes: Uint8Array
}

/** Records are small; IPNS caps them at 10 KiB, and so do we. */
export const MAX_ANNOUNCEMENT_BYTES = 10 * 1024

/** How long an announcement stays valid. Writers re-announce well within it. @default 48 h */
export const ANNOUNCEMENT_LIFETIME_MS = 48 * 60 * 60 * 1000

export async function createAnnouncement(
  key: PrivateKey,
  commit: CID,
  seq: number,
  lifetimeMs = ANNOUNCEMENT_LIFETIME_MS,
): Promise<Announcement> {
  const record = await createIPNSRecord(key, commit, BigInt(seq), lifetimeMs, { v1Compatible: false })
  return { commit, seq, expires: Date.parse(record.validity), bytes: marshalIPNSRecord(record) }
}

/**
 * Checks an announcement against the store's key: size, signature, expiry, and a value that is
 * a commit CID with a safe sequence number. Throws InvalidAnnouncementError saying why.
 */
export async function readAnnouncement(key: PublicKey, bytes: Uint8Array): Promise<Announcement> {
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
    throw new InvalidAnnouncementError(`announcement is ${bytes.length} bytes, the limit is ${MAX_ANNOUNCEMENT_BYTES}`)
  }
  try {
    await validate(key, bytes)
  } catch (err) {
    const name = (err as Error).name ?? 'Error'
    const reason =
      name === 'SignatureVerificationError'
        ? 'not signed by the store key'
        : name === 'RecordExpiredError'
          ? 'expired'
          : `malformed (${name})`
    throw new InvalidAnnouncementError(`announcement refused: ${reason}`, { cause: err })
  }
  const record = unmarshalIPNSRecord(bytes)
  const match = /^\/ipfs\/([^/]+)$/.exec(record.value)
  let commit: CID | undefined
  try {
    commit = match === null ? undefined : CID.parse(match[1])
  } catch {
    commit = undefined
  }
  if (commit === undefined || commit.code !== DAG_CBOR) {
    throw new InvalidAnnouncementError('announcement refused: its value is not a commit CID')
  }
  if (record.sequence < 1n || record.sequence > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidAnnouncementError('announcement refused: sequence out of range')
  }
  return { commit, seq: Number(record.sequence), expires: Date.parse(record.validity), bytes }
}

/**
 * The blocks a commit adds, sent along with its announcement to readers that hold the version
 * announced before it: the same messages a fast-path sync replies with, against tree `have`.
 */
export interface Push {
  /** The tree root the deltas are against: a reader holding it can apply them. */
  readonly have: CID
  readonly messages: readonly Record<string, unknown>[]
  /** Encoded size, for stats. */
  readonly bytes: number
}

/** A topic message carries at most this much (the announcement and its push). */
export const MAX_TOPIC_MESSAGE_BYTES = 1024 * 1024

/**
 * A message on a store's topic: `{a: announcement, p?: {h: tree root, m: [sync replies]}}` in
 * DAG-CBOR. Without `p` it only names the head (re-announcements, relays).
 */
export function encodeTopicMessage(announcement: Uint8Array, push?: Push): Uint8Array {
  return dagCbor.encode(
    push === undefined ? { a: announcement } : { a: announcement, p: { h: push.have, m: push.messages } },
  )
}

/** Splits a topic message; throws InvalidAnnouncementError if it is not one. Neither part is checked here. */
export function decodeTopicMessage(bytes: Uint8Array): { announcement: Uint8Array; push?: Push } {
  if (bytes.length > MAX_TOPIC_MESSAGE_BYTES) {
    throw new InvalidAnnouncementError(
      `topic message is ${bytes.length} bytes, the limit is ${MAX_TOPIC_MESSAGE_BYTES}`,
    )
  }
  let message: { a?: unknown; p?: { h?: unknown; m?: unknown } }
  try {
    message = dagCbor.decode(bytes)
  } catch (err) {
    throw new InvalidAnnouncementError(`topic message is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (message === null || typeof message !== 'object' || !(message.a instanceof Uint8Array)) {
    throw new InvalidAnnouncementError('a topic message is {a: announcement bytes, p?: push}')
  }
  const { p } = message
  if (p === undefined) return { announcement: message.a }
  const have = p !== null && typeof p === 'object' ? CID.asCID(p.h) : null
  if (have === null || !Array.isArray(p.m) || !p.m.every((m) => m !== null && typeof m === 'object')) {
    throw new InvalidAnnouncementError('a push is {h: tree root CID, m: [messages]}')
  }
  return { announcement: message.a, push: { have, messages: p.m, bytes: bytes.length - message.a.length } }
}
