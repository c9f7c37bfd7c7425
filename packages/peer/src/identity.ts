// Stores are named by their writer's Ed25519 key: a store's id is the IPNS name of the public
// key (a CIDv1 of the key in base36, `k51...`), so anyone holding the id can check that an
// announcement was signed by the one key allowed to move the store's head.
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Datastore, Key } from 'interface-datastore'
import { base36 } from 'multiformats/bases/base36'
import { InvalidStoreIdError } from './errors.ts'

/** A store's id: the IPNS name of its writer's public key. */
export function storeIdOf(key: PublicKey): string {
  return key.toCID().toString(base36)
}

/** The public key a store id names; throws InvalidStoreIdError unless it is an Ed25519 IPNS name. */
export function storePublicKey(id: string): PublicKey {
  let key: PublicKey | undefined
  try {
    const peer = peerIdFromString(id)
    key = peer.type === 'Ed25519' ? peer.publicKey : undefined
  } catch (err) {
    throw new InvalidStoreIdError(`"${id}" is not a store id (an IPNS name of an Ed25519 key)`, { cause: err })
  }
  if (key === undefined) throw new InvalidStoreIdError(`"${id}" names a key that is not Ed25519`)
  return key
}

/** A new writer key for a new store. */
export async function createStoreKey(): Promise<PrivateKey> {
  return generateKeyPair('Ed25519')
}

const KEYS = '/dagsync/keys'

/** Keeps a store's writer key in the datastore (as helia keeps the node's own key: not encrypted). */
export async function saveStoreKey(datastore: Datastore, key: PrivateKey): Promise<string> {
  const id = storeIdOf(key.publicKey)
  await datastore.put(new Key(`${KEYS}/${id}`), privateKeyToProtobuf(key))
  return id
}

export async function loadStoreKey(datastore: Datastore, id: string): Promise<PrivateKey | undefined> {
  try {
    return privateKeyFromProtobuf(await datastore.get(new Key(`${KEYS}/${id}`)))
  } catch (err) {
    if ((err as Error).name === 'NotFoundError') return undefined
    throw err
  }
}

/** The ids of the stores this datastore holds writer keys for. */
export async function* storeKeyIds(datastore: Datastore): AsyncGenerator<string> {
  for await (const key of datastore.queryKeys({ prefix: KEYS })) yield key.baseNamespace()
}
