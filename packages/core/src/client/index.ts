// connect() and the pieces of its behaviour that are pure (states, backoff, identify budget).
export * from './status.js'
export * from './backoff.js'
export * from './identify-budget.js'
export * from './metrics.js'
export * from './options.js'
export * from './connect.js'
export type { SharedWorkerLike, TabChannel, TabLocks, TabSessionStore, TabsEnvironment, WorkerPortLike, WorkerSharing } from './tab-support.js'
export type { PersistStore } from './persist-support.js'
