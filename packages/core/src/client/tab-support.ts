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
