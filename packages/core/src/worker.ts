/**
 * `@fates-rx/core/worker`: what a SharedWorker script runs so that tabs share one connection
 * through it (`shareAcrossTabs: { worker }`). The script is the app's own file, served by its
 * bundler, so that every page of the origin gets the same URL (a SharedWorker is shared only
 * by URL):
 *
 * ```ts
 * // fates-worker.ts
 * import { startHub } from '@fates-rx/core/worker'
 * startHub()
 * ```
 *
 * `createHub` makes a hub without a worker (tests, another runtime's ports).
 *
 * @packageDocumentation
 */
export { createHub, type Hub, type HubOptions, startHub } from './client/tabs/hub.js'
export type { SharedWorkerLike, TabSessionStore, WorkerPortLike, WorkerSharing } from './client/tabs/tab-support.js'
