import type { ResumeOutcome } from '@fates-rx/core/protocol'
import type { Logger } from '../log.js'
import type { Store } from '../stores/store.js'
import type { ConfiguredRules } from './connection-machine.js'
import type { OutboxLimits } from './outbox.js'
import type { ProtocolTimers } from './timers.js'
import type { ViewerGate } from './viewers.js'

/**
 * Everything the protocol logic needs; `startServer` fills it from its options. The numbers are
 * the connection machine's rules, named once there (`ConfiguredRules`).
 */
export interface ProtocolConfig extends ConfiguredRules {
  readonly store: Store
  readonly logger: Logger
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
  /** `count` events were replayed to one connection (`send_all`, or a resume). */
  replayed?(count: number): void
  /**
   * A client that sent positions (`after`) resumed one channel: `exact`, or why its position
   * was not used (core's `ResumeReasons`).
   */
  resumed?(outcome: ResumeOutcome): void
}
