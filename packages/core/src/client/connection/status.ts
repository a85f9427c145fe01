/**
 * The states of a connection:
 * - `connecting`: the socket is opening.
 * - `identifying`: the socket is open; waiting for `identity`, sending identify, waiting for `ready`.
 * - `replaying`: `ready` came on a `sendAll` connection; prior events arrive until `done_prior`.
 * - `live`: events arrive as they are published.
 * - `reconnecting`: waiting to connect again (backoff, the ratelimit window, or a cooldown).
 * - `closed`: closed by the user (`close()`, or the last subscriber left), or not opened yet.
 * - `failed`: stopped for good (rejected credentials, a client bug, or out of attempts); only
 *   `reconnect()` tries again.
 */
export type ConnectionState =
  | 'connecting'
  | 'identifying'
  | 'replaying'
  | 'live'
  | 'reconnecting'
  | 'closed'
  | 'failed'

/** The close that ended a connection. */
export interface CloseDetails {
  /** The close code (1006 when the connection dropped without a close frame). */
  readonly code: number
  /** The reason the server sent, token redacted. */
  readonly reason: string
  /** What the code means, in one sentence. */
  readonly meaning: string
}

/** A connection's status, as `status$` emits it. */
export interface ConnectionStatus {
  /** The state. */
  readonly state: ConnectionState
  /** When this state began (ms since the epoch, by the client's scheduler). */
  readonly since: number
  /** The ratelimit budget the server last reported (`requests_remaining`), once known. */
  readonly requestsRemaining?: number
  /** When the last frame arrived (ms since the epoch), once one has. */
  readonly lastFrameAt?: number
  /**
   * `connecting` / `identifying` / `reconnecting`: which retry this is since the last success: 0
   * for the first connection, 1 for the first retry (from the `reconnecting` that announces it).
   */
  readonly attempt?: number
  /** `reconnecting`: how long the client waits before connecting again (ms). */
  readonly delayMs?: number
  /** `reconnecting`: when it connects again (ms since the epoch). */
  readonly nextRetryAt?: number
  /** `reconnecting` / `failed`: the close that caused it, when there was one. */
  readonly close?: CloseDetails
  /** Why, in words: the server's error detail, a timeout, the ratelimit wait (token redacted). */
  readonly detail?: string
  /**
   * `live` after a reconnect's replay (with `resume`): whether the gap is known to be filled.
   * `filled`: the replay reached back to the newest event delivered before the gap (it held an
   * event stamped at or before it), so every event published since was in it. `unknown`: the
   * server's history did not reach that far (it keeps a bounded number of events), or the
   * replay was cut short (`maxReplayHeld`, `replayTimeoutMs`): events of the gap may be missing.
   * With `shareAcrossTabs`, a tab back from a reload is told its fill's (the welcome's status);
   * a status shown again to a tab (a count that changed, a new tab's welcome) carries none.
   */
  readonly gap?: GapOutcome
  /**
   * With `shareAcrossTabs`, once this tab knows its part: whether it holds the shared connection
   * (`leader`), receives it from the tab that does (`follower`) or from the SharedWorker that
   * does (`worker`), and how many tabs share it.
   */
  readonly tabs?: { readonly role: TabRole; readonly count: number }
}

/** Whether a reconnect's gap is known to be filled; see {@link ConnectionStatus.gap}. */
export type GapOutcome = 'filled' | 'unknown'

/**
 * A tab's part in a connection shared across tabs: it holds it (`leader`), receives it from the
 * tab that does (`follower`), or from the SharedWorker that does (`worker`).
 */
export type TabRole = 'leader' | 'follower' | 'worker'

/**
 * Every allowed transition, `from → to[]`. Anything else is a bug in the client and throws.
 * `closed → connecting` is the first subscription or `reconnect()`; `closed → failed` an
 * option function that returned a bad value; `closed → closed` is `close()` on a client not
 * opened yet or left by its last subscriber (it now stays closed for new ones); `reconnecting →
 * reconnecting` is a wait that changed (for example the ratelimit window after a backoff);
 * `failed → failed` is `reconnect()` whose attempt failed at once (an option function that
 * returned a bad value or threw), with the new reason.
 */
export const Transitions = Object.freeze({
  closed: ['connecting', 'reconnecting', 'failed', 'closed'],
  connecting: ['identifying', 'reconnecting', 'failed', 'closed'],
  identifying: ['replaying', 'live', 'reconnecting', 'failed', 'closed'],
  replaying: ['live', 'reconnecting', 'failed', 'closed'],
  live: ['reconnecting', 'failed', 'closed'],
  reconnecting: ['connecting', 'reconnecting', 'failed', 'closed'],
  failed: ['connecting', 'reconnecting', 'failed', 'closed'],
} as const satisfies Record<ConnectionState, readonly ConnectionState[]>)

/** True when the state machine allows `from → to`. */
export function canTransition(from: ConnectionState, to: ConnectionState): boolean {
  return (Transitions[from] as readonly ConnectionState[]).includes(to)
}
