// store create|ls|follow|unfollow|status|name (allow|deny|writers: writers.ts)
import type { StoreInfo } from '@dagsync/daemon/client'
import type { Command } from 'commander'
import { examples, optionsOf } from '../command.ts'
import { withApi } from '../context.ts'
import { formatBytes, plural, print, printJson, table } from '../output.ts'
import { writerCommands } from './writers.ts'

function storeLine(store: StoreInfo): string {
  return `${store.names.join(',') || '-'}  ${store.id}  ${store.role}, commit ${store.seq}`
}

export function storeCommands(program: Command): void {
  const store = program
    .command('store')
    .description('Create, list and follow stores')
    .addHelpText(
      'after',
      '\nA store is named by its id (k51..., the IPNS name of its writer key) or by a local name given here.\n',
    )

  examples(
    store
      .command('create')
      .description('Create a store this repo writes (a new Ed25519 writer key)')
      .option('-n, --name <name>', 'a local name for it')
      .action(async (...args) => {
        const options = optionsOf<{ name?: string }>(args)
        await withApi(options, 'store create', async (api) => {
          const info = await api.storeCreate(options.name === undefined ? {} : { name: options.name })
          if (options.json === true) return printJson(info)
          print(`created ${storeLine(info)}`)
        })
      }),
    ['dagsync store create --name notes', 'dagsync store create --json'],
  )

  examples(
    store
      .command('ls')
      .description('List the stores this repo writes and follows')
      .action(async (...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store ls', async (api) => {
          const list = await api.storeList()
          if (options.json === true) return printJson(list)
          print(
            table(
              ['NAME', 'ID', 'ROLE', 'SEQ', 'HEAD'],
              list.map((s) => [s.names.join(',') || '-', s.id, s.role, String(s.seq), s.head?.toString() ?? '-']),
            ),
          )
        })
      }),
    ['dagsync store ls', 'dagsync store ls --json'],
  )

  examples(
    store
      .command('follow <id>')
      .description(
        "Follow someone else's store: keep a full replica in sync and pinned (or fetch on read with --sparse)",
      )
      .option('-n, --name <name>', 'a local name for it')
      .option('--sparse', 'fetch only what reads touch, instead of the whole store')
      .action(async (id: string, ...args) => {
        const options = optionsOf<{ name?: string; sparse?: boolean }>(args)
        await withApi(options, 'store follow', async (api) => {
          const info = await api.storeFollow({
            id,
            sparse: options.sparse === true,
            ...(options.name === undefined ? {} : { name: options.name }),
          })
          if (options.json === true) return printJson(info)
          print(`following ${storeLine(info)}`)
        })
      }),
    ['dagsync store follow k51qzi5uqu5d... --name shared', 'dagsync store follow k51qzi5uqu5d... --sparse'],
  )

  examples(
    store
      .command('unfollow <store>')
      .description('Stop following a store (its blocks go at the next gc)')
      .action(async (ref: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store unfollow', async (api) => {
          await api.storeUnfollow({ store: ref })
          if (options.json === true) return printJson({ unfollowed: ref })
          print(`unfollowed ${ref}`)
        })
      }),
    ['dagsync store unfollow shared'],
  )

  examples(
    store
      .command('status <store>')
      .description("A store's commit, newest known commit, lag, peers, keys, writers and last sync")
      .action(async (ref: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store status', async (api) => {
          const s = await api.storeStatus({ store: ref })
          if (options.json === true) return printJson(s)
          print(`store    ${s.id}${s.names.length > 0 ? ` (${s.names.join(', ')})` : ''}`)
          print(`role     ${s.role}${s.online ? '' : ' (no daemon running: not syncing)'}`)
          print(`commit   ${s.seq}${s.head === null ? '' : `  ${s.head}`}`)
          if (s.role !== 'writer') print(`newest   ${s.newest} (lag ${s.lag})${s.syncing ? ', syncing' : ''}`)
          print(`keys     ${s.keys < 0 ? 'unknown (sparse)' : s.keys}`)
          print(`peers    ${s.peers}`)
          if (s.role === 'writer') print(`writers  ${s.writers.length === 0 ? 'only this node' : s.writers.join(' ')}`)
          if (s.lastSync !== undefined)
            print(
              `synced   commit ${s.lastSync.seq} in ${s.lastSync.ms} ms, ${plural(s.lastSync.blocks, 'block')}, ${formatBytes(s.lastSync.wireBytes)} via ${s.lastSync.path}`,
            )
          if (s.lastError !== undefined) print(`error    ${s.lastError}`)
        })
      }),
    ['dagsync store status demo', 'dagsync store status demo --json'],
  )

  writerCommands(store)

  examples(
    store
      .command('name <store> <name>')
      .description('Give a store another local name')
      .action(async (ref: string, name: string, ...args) => {
        const options = optionsOf(args)
        await withApi(options, 'store name', async (api) => {
          const info = await api.storeName({ store: ref, name })
          if (options.json === true) return printJson(info)
          print(storeLine(info))
        })
      }),
    ['dagsync store name k51qzi5uqu5d... shared'],
  )
}
