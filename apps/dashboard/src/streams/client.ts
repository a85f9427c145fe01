import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import type { Observable } from 'rxjs'

/**
 * The states of a connection as `connect()` of `@fates-rx/core` reports them. Only the fields
 * the dashboard reads are named here, so the wiring stays testable with plain subjects.
 */
export type ConnectionState =
  | 'connecting'
  | 'identifying'
  | 'replaying'
  | 'live'
  | 'reconnecting'
  | 'closed'
  | 'failed'

/** One value of `status$`. */
export interface ConnectionStatus {
  readonly state: ConnectionState
  /** When this state began (epoch milliseconds). */
  readonly since: number
  readonly attempt?: number | undefined
  readonly delayMs?: number | undefined
  /** When the next connection attempt starts (epoch milliseconds), while reconnecting. */
  readonly nextRetryAt?: number | undefined
  /** The close that led here, with the close code's meaning. */
  readonly close?: { readonly code: number; readonly reason: string; readonly meaning: string } | undefined
  /** Why the client stopped or what it is waiting for, in words. */
  readonly detail?: string | undefined
  readonly requestsRemaining?: number | undefined
  readonly lastFrameAt?: number | undefined
}

/** One value of `diagnostic$`: a segment that did not decode, or another protocol anomaly. */
export interface Diagnostic {
  readonly kind: string
  readonly message: string
  readonly raw?: string | undefined
}

/** The streams of one connected client that the dashboard renders. */
export interface DashboardClient {
  readonly event$: Observable<ReceivedEvent>
  readonly control$: Observable<ControlPayload>
  readonly diagnostic$: Observable<Diagnostic>
  readonly status$: Observable<ConnectionStatus>
}
