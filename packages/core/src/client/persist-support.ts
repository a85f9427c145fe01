// What `persist` needs of the environment: the part every app carries (the option's type and
// check). Reading and writing the records (persist.ts) is loaded by connect() only when asked for.

/**
 * Where `persist` keeps its records: `localStorage` (the default in a browser) fits, and so does
 * any object with these two methods (a file, a database, a `Map` in tests; either may be async).
 * Each record is a short JSON text under a key that is a SHA-256 digest; neither holds the token.
 */
export interface PersistStore {
  /** The text stored under `key`, or `null`/`undefined` when there is none. */
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>
  /** Stores `value` under `key`, replacing what was there. */
  setItem(key: string, value: string): unknown
}

/** True when `value` has the two methods of a {@link PersistStore}. */
export const isPersistStore = (value: unknown): value is PersistStore =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PersistStore).getItem === 'function' &&
  typeof (value as PersistStore).setItem === 'function'

/**
 * The store `persist` uses: the one given, `localStorage` for `true`, none for `false`; a text
 * saying what is wrong when `true` finds no `localStorage` or the value is not a store.
 */
export function persistStore(option: boolean | PersistStore | undefined): PersistStore | undefined | string {
  if (option === undefined || option === false) return undefined
  if (option === true) {
    let storage: unknown
    try {
      storage = (globalThis as { localStorage?: unknown }).localStorage
    } catch {
      // A browser that blocks storage for this page throws on the property itself.
    }
    return isPersistStore(storage) ? storage : 'persist: true needs localStorage (a browser); elsewhere pass a store with getItem and setItem'
  }
  return isPersistStore(option) ? option : 'persist must be a boolean, or a store with getItem and setItem'
}
