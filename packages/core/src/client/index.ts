// connect() and the pieces of its behaviour that are pure (states, backoff, identify budget).
export * from './connection/status.js'
export * from './policies/backoff.js'
export * from './policies/identify-budget.js'
export * from './connection/metrics.js'
export * from './options.js'
export * from './connection/connect.js'
export type { SharedWorkerLike, TabChannel, TabLocks, TabSessionStore, TabsEnvironment, WorkerPortLike, WorkerSharing } from './tabs/tab-support.js'
export type { PersistStore } from './persist/persist-support.js'
