import type { Logger } from '../log.js'
import type { Store } from '../stores/store.js'
import type { OutboxLimits } from './outbox.js'
import type { ProtocolTimers } from './timers.js'
import type { ViewerGate } from './viewers.js'

/** Everything the protocol logic needs; `startServer` fills it from its options. */
export interface ProtocolConfig {
  readonly store: Store
  readonly logger: Logger
  /** The highest ratelimit counter value allowed. */
  readonly rateLimit: number
  /** The ratelimit window, fixed when a counter is created (milliseconds). */
  readonly rateWindowMs: number
  /** What an identify costs. */
  readonly identifyCost: number
  /** What every later client message costs. */
  readonly messageCost: number
  /** Close with 4000 when no identify arrived within this time (milliseconds; 0 = never). */
  readonly identifyTimeoutMs: number
  /** How often to ping (milliseconds). */
  readonly pingIntervalMs: number
  /** Drop a peer after this long without a pong or message (milliseconds). */
  readonly pongTimeoutMs: number
  /** Delay between the `send_all` replay and `done_prior` (milliseconds). */
  readonly donePriorDelayMs: number
  /** Per-connection writer limits. */
  readonly outbox: OutboxLimits
  /** The clock. */
  readonly now: () => number
  /** Told what happens, for metrics. @default nothing is told */
  readonly observer?: ProtocolObserver
  /** Where timeouts, intervals and the writer's flush are scheduled. @default NodeTimers */
  readonly timers?: ProtocolTimers
  /**
   * Relay mode: admits viewers and learns who watches which target. With it, `rateLimit` and
   * the costs apply to each connection's own counter (in memory, gone with the connection),
   * never to the shared per-identity counter. @default none: the server is an origin
   */
  readonly viewers?: ViewerGate
}

/**
 * What the protocol logic reports as it runs, for metrics (`GET /metrics` counts with it).
 * Every method is optional and must not throw.
 */
export interface ProtocolObserver {
  /** An identify ended: `ready`, or the control code it was refused with. */
  identified?(outcome: string): void
  /** A connection closed with `code`. */
  closed?(code: number): void
  /** `count` events were queued for one connection (live or replayed). */
  delivered?(count: number): void
  /** A publish finished: how many events were stored, how many were repeats, in what time. */
  published?(stored: number, repeats: number, seconds: number): void
  /** The store failed (a connection got 4500, or a publish failed). */
  storeFailed?(): void
}
