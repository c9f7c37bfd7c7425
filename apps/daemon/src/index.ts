/**
 * @packageDocumentation
 *
 * `@dagsync/daemon` runs a dagsync node for a repo on disk: it serves the stores the repo writes,
 * follows (and keeps in full) the stores it follows, and answers a local HTTP API with health
 * and Prometheus metrics. The same operations run without a daemon on the repo directly
 * (`LocalApi` without a node), which is what the CLI does when no daemon is running.
 *
 * @example
 * ```ts
 * import { startDaemon } from '@dagsync/daemon'
 *
 * const daemon = await startDaemon({ repo: '/tmp/my-repo', api: '127.0.0.1:0', listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
 * console.log(daemon.url, daemon.node.addresses)
 * await daemon.api.put({ store: 'demo', key: 'greeting', value: 'hello' })
 * await daemon.stop()
 * ```
 */

export * from './api.ts'
export { HttpClient, type HttpClientInit } from './client.ts'
export { type DaemonConfig, DEFAULT_CONFIG, parseApiAddress, parseGatewayAddress, readConfig } from './config.ts'
export { createLogger, type Daemon, type DaemonInit, startDaemon } from './daemon.ts'
export { LocalApi, type LocalApiInit } from './local-api.ts'
export { initRepo, type LockInfo, loadConfig, Repo, RepoLockedError, readToken, repoHolder, repoPath } from './repo.ts'
export { SHUTDOWN_DEADLINE_MS, ShutdownError, type StopWithinOptions, stopWithin } from './shutdown.ts'
export { VERSION } from './version.ts'
