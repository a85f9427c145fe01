// What sharing a connection across tabs needs of the environment, and whether it has it: the
// part of shareAcrossTabs that every app carries. The sharing itself (tabs.ts) is loaded by
// connect() only when asked for, so that apps that do not share do not download it.

/** The Web Locks a shared connection needs: `navigator.locks` in a browser. */
export interface TabLocks {
  /** Asks for the exclusive lock `name`; `callback` holds it until its promise settles. */
  request(name: string, options: { readonly signal?: AbortSignal }, callback: () => Promise<void>): Promise<unknown>
  /** The locks held and asked for, as `navigator.locks.query()` tells them. */
  query(): Promise<{ readonly pending?: ReadonlyArray<{ readonly name?: string }> }>
}

/** One end of a broadcast channel: the browser's `BroadcastChannel`. */
export interface TabChannel {
  /** Posts a message (structured-cloned) to every other end of the same name. */
  postMessage(message: unknown): void
  /** Closes this end. */
  close(): void
  /** Receives what the other ends post. */
  onmessage: ((event: { readonly data: unknown }) => void) | null
}

/**
 * What `shareAcrossTabs` uses, when given instead of `true` (tests, other runtimes): the lock
 * manager, the channel constructor, and the SHA-256 (hex) that names them (default: `crypto.subtle`).
 */
export interface TabsEnvironment {
  /** The lock manager (`navigator.locks`): the lock's holder is the leader. */
  readonly locks: TabLocks
  /** The channel constructor (`BroadcastChannel`): what the leader delivers, to the followers. */
  readonly BroadcastChannel: new (name: string) => TabChannel
  /** SHA-256 of a text, in hex; the channel's and lock's name is made of it. Default: `crypto.subtle`'s. */
  readonly digest?: (text: string) => Promise<string>
  /**
   * Where the tab keeps the newest event it delivered, so that a reloaded tab gets what it
   * missed (from the leader, or as a leader from the server). Default: `sessionStorage`.
   */
  readonly session?: TabSessionStore
}

/**
 * The environment `shareAcrossTabs: true` uses (the browser's Web Locks, BroadcastChannel and
 * SHA-256), or why there is none: then the client is not shared, and says so in `status$`.
 */
export function tabsEnvironment(option: true | TabsEnvironment): TabsEnvironment | string {
  if (option !== true) return option
  const scope = globalThis as { navigator?: { locks?: TabLocks }; BroadcastChannel?: TabsEnvironment['BroadcastChannel'] }
  const locks = scope.navigator?.locks
  if (locks === undefined || scope.BroadcastChannel === undefined || globalThis.crypto?.subtle === undefined) {
    return 'this environment lacks Web Locks, BroadcastChannel or crypto.subtle (Node, an old browser, or a page served neither over https nor from localhost)'
  }
  return { locks, BroadcastChannel: scope.BroadcastChannel }
}

/** One end of a MessagePort: a SharedWorker's `port`, or the port a hub is given. */
export interface WorkerPortLike {
  /** Posts a message (structured-cloned) to the other end. */
  postMessage(message: unknown): void
  /** Starts delivering messages (implied by setting `onmessage` on a browser's port). */
  start?(): void
  /** Closes this end. */
  close?(): void
  /**
   * Receives what the other end posts. Declared as a method's type, so that a browser's port
   * (whose handler takes a whole `MessageEvent`) fits.
   */
  onmessage: { handle(event: { readonly data: unknown }): void }['handle'] | null
}

/** A SharedWorker, as `shareAcrossTabs.worker` uses it: its port, and its `error` event (the script failed). */
export interface SharedWorkerLike {
  readonly port: WorkerPortLike
  /** Listens for the worker's `error` event (its script failed to load or threw at start). */
  addEventListener?(type: 'error', listener: () => void): void
}

/**
 * `shareAcrossTabs` through a SharedWorker that runs `startHub()` (`@fates-rx/core/worker`):
 * the worker holds each target's one connection, and every tab of the target is one of its
 * ports. Where there is no SharedWorker (the factory throws, the script fails to load, or the
 * worker does not answer within `welcomeTimeoutMs`), the tabs elect a leader as with `true`.
 */
export interface WorkerSharing {
  /**
   * The SharedWorker, or a function that makes it (preferred: called only when the client first
   * connects, and a missing `SharedWorker` then throws there, which means the fallback).
   * Make it with the bundler's own means, so that every page gets the same script URL
   * (`new SharedWorker(new URL('./fates-worker.ts', import.meta.url), { type: 'module' })` in Vite).
   */
  readonly worker: SharedWorkerLike | (() => SharedWorkerLike)
  /** Where there is no worker: `true` (the default) elects a leader among tabs; `false` gives each tab its own connection; a {@link TabsEnvironment} elects with it. */
  readonly fallback?: boolean | TabsEnvironment
  /** The Web Locks a tab tells the worker it lives by (so a crashed tab's port is let go). Default: `navigator.locks`. */
  readonly locks?: TabLocks
  /** SHA-256 of a text, in hex, naming the target. Default: `crypto.subtle`'s. */
  readonly digest?: (text: string) => Promise<string>
  /**
   * Where the tab keeps the newest event it delivered, so that a reloaded tab (or one whose
   * worker restarted) gets what it missed. Default: `sessionStorage` (per tab, gone with it).
   */
  readonly session?: TabSessionStore
  /**
   * How long a tab waits for the worker's answer to its join (ms) before it falls back.
   * @default 5000
   */
  readonly welcomeTimeoutMs?: number
}

/** Where a tab keeps its resume mark (`sessionStorage` fits). */
export interface TabSessionStore {
  /** The text stored under `key`, or `null`. */
  getItem(key: string): string | null
  /** Stores `value` under `key`. */
  setItem(key: string, value: string): void
}
