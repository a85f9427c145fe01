import type { KnownCloseCode } from './close.js'

/**
 * What the client does when a connection closes with a code:
 * - `fail`: stop and report (`failed`); only `reconnect()` tries again.
 * - `cooldown`: wait until the server's ratelimit window has passed, then connect again.
 * - `backoff`: reconnect after an exponential, jittered delay.
 */
export type CloseAction = 'fail' | 'cooldown' | 'backoff'

/** One row of the close policy: the action and why, in words for docs and status lines. */
export interface ClosePolicyEntry {
  /** What the client does. */
  readonly action: CloseAction
  /** Why, in one sentence. */
  readonly why: string
}

/**
 * The close-code policy as data. A close the user asked for (`close()`) always ends in
 * `closed` and never reaches this table; codes not in it back off ({@link UnknownClosePolicy}).
 */
export const ClosePolicy = /* @__PURE__ */ Object.freeze({
  1000: { action: 'backoff', why: 'The server closed normally without being asked: it may be restarting.' },
  1001: { action: 'backoff', why: 'The server is going away; another one may be up soon.' },
  1006: { action: 'backoff', why: 'The connection dropped; the network or the server may be back soon.' },
  1009: { action: 'fail', why: 'The client sent a message over 4096 bytes; retrying would repeat the bug.' },
  4000: { action: 'backoff', why: 'The server asks the client to try again.' },
  4004: { action: 'fail', why: 'The credentials or identify payload were rejected; retrying cannot fix them.' },
  4012: { action: 'cooldown', why: 'The ratelimit is spent; another identify before the window passes only extends the ban.' },
  4500: { action: 'backoff', why: 'The server had an internal error and suggests reconnecting.' },
} as const satisfies Record<KnownCloseCode, ClosePolicyEntry>)

/** The policy for a close code not in {@link ClosePolicy}. */
export const UnknownClosePolicy: ClosePolicyEntry = /* @__PURE__ */ Object.freeze({
  action: 'backoff',
  why: 'An unknown close code: try again, but not in a storm.',
})

/** The policy row for any close code. */
export function closePolicy(code: number): ClosePolicyEntry {
  return (ClosePolicy as Readonly<Record<number, ClosePolicyEntry | undefined>>)[code] ?? UnknownClosePolicy
}
