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

/**
 * What the client does when the server refuses the websocket upgrade with an HTTP 4xx:
 * - `retry`: back off and connect again, as after a drop (the refusal is a blip).
 * - `slow-retry`: connect again after {@link SlowRetry} (a gateway or proxy in front of the
 *   server that refuses now may let the client in later, or the url is wrong; either way a fast
 *   loop helps no one), saying so in the status detail.
 * - `give-up`: count it; {@link MaxRefusedUpgrades} in a row end in `failed` (a wrong url).
 */
export type RefusalAction = 'retry' | 'slow-retry' | 'give-up'

/** Upgrades refused with a `give-up` status in a row before the client stops: a wrong URL, not a blip. */
export const MaxRefusedUpgrades = 3

/** How long a `slow-retry` waits (ms): between `minMs` and twice it, jittered. */
export const SlowRetry = /* @__PURE__ */ Object.freeze({ minMs: 300_000 } as const)

/**
 * The refusal policy as data: the action by HTTP status. A 4xx not in it gives up after
 * {@link MaxRefusedUpgrades} in a row; a 5xx is no refusal but a server in trouble, and backs
 * off as a drop does.
 */
export const RefusalPolicy = /* @__PURE__ */ Object.freeze({
  408: 'retry',
  429: 'retry',
  401: 'slow-retry',
  403: 'slow-retry',
  404: 'slow-retry',
} as const satisfies Record<number, RefusalAction>)

/** Why each refusal action, in words for the status detail. */
export const RefusalWhy = /* @__PURE__ */ Object.freeze({
  retry: 'A timed-out upgrade, or one asked to slow down: backing off.',
  'slow-retry': 'Refused for now (a gateway, a deploy or a wrong url): retrying slowly.',
  'give-up': 'Refused: check the url.',
} as const satisfies Record<RefusalAction, string>)

/** The refusal action for an HTTP status, or `undefined` when it is no 4xx refusal. */
export function refusalAction(httpStatus: number | undefined): RefusalAction | undefined {
  if (httpStatus === undefined || httpStatus < 400 || httpStatus >= 500) return undefined
  return (RefusalPolicy as Readonly<Record<number, RefusalAction | undefined>>)[httpStatus] ?? 'give-up'
}
