// What `persist` needs of the environment. The option's type is all that every app carries:
// the store is found, and the records read and written, by persist.ts, which connect() loads
// only when the option is on.

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
