import type { PerAttempt } from './options.js'

// The name of a connection's identity, shared by the sharing across tabs (its Web Lock and
// BroadcastChannel) and by `persist` (its record's key): a SHA-256 digest, so that the token is
// never in it and tabs or pages with another token never meet.

/** The version of what is named: part of the name, so that versions never mix. */
export const NameVersion = 1

/** SHA-256 of a text, in hex, by `crypto.subtle`. */
export async function sha256(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

/** The options a connection's identity is made of. */
export interface NamedOptions {
  readonly url: PerAttempt<string>
  readonly bot: boolean
  readonly id: PerAttempt<string>
  readonly token: PerAttempt<string>
  readonly sendAll: boolean
  readonly sendNone: boolean
  readonly resume: boolean
}

const read = <T>(value: PerAttempt<T>): T => (typeof value === 'function' ? (value as () => T)() : value)

/**
 * The text digested into a connection's name: url, kind, id, token, `sendAll`, `sendNone` and
 * `resume`. Throws when an option function throws.
 */
export const identityText = (config: NamedOptions): string =>
  JSON.stringify([read(config.url), config.bot, read(config.id), read(config.token), config.sendAll, config.sendNone, config.resume])

/** `fates-rx:1:` and the digest of the connection's identity. */
export const connectionName = async (config: NamedOptions, digest: (text: string) => Promise<string> = sha256): Promise<string> =>
  `fates-rx:${NameVersion}:${await digest(identityText(config))}`
