import { NEVER, type Observable } from 'rxjs'
import type { ControlPayload, ReceivedEvent } from '../codec/codecs.js'
import type { FatesClient } from '../client/fates-client.js'
import type { ConnectionMetrics } from '../client/connection/metrics.js'
import type { ConnectionStatus } from '../client/connection/status.js'
import type { Diagnostic } from '../operators/diagnostic.js'

/** The streams of a {@link fakeClient}; any left out never emit. */
export interface FakeClientStreams {
  /** Raw frames. */
  readonly frame$?: Observable<string>
  /** Control payloads. */
  readonly control$?: Observable<ControlPayload>
  /** Events. */
  readonly event$?: Observable<ReceivedEvent>
  /** Diagnostics. */
  readonly diagnostic$?: Observable<Diagnostic>
  /** Statuses. */
  readonly status$?: Observable<ConnectionStatus>
  /** Metrics. */
  readonly metrics$?: Observable<ConnectionMetrics>
}

/** A {@link FatesClient} double that also counts the calls made on it. */
export interface FakeClient extends FatesClient {
  /** How often `close()` and `reconnect()` were called. */
  readonly calls: { readonly close: number; readonly reconnect: number }
}

/**
 * A client whose streams are the given observables, for testing code that consumes a client
 * (view state, a store, a hook) with marbles and no socket at all.
 *
 * @example
 * testScheduler.run(({ cold, expectObservable }) => {
 *   const client = fakeClient({ event$: cold('-a-b', { a: receivedEvent(vote1), b: receivedEvent(vote2) }) })
 *   expectObservable(voteTotals(client)).toBe('-x-y', { x: 1, y: 2 })
 * })
 */
export function fakeClient(streams: FakeClientStreams = {}): FakeClient {
  const calls = { close: 0, reconnect: 0 }
  return {
    frame$: streams.frame$ ?? NEVER,
    control$: streams.control$ ?? NEVER,
    event$: streams.event$ ?? NEVER,
    diagnostic$: streams.diagnostic$ ?? NEVER,
    status$: streams.status$ ?? NEVER,
    metrics$: streams.metrics$ ?? NEVER,
    calls,
    close: () => {
      calls.close++
    },
    reconnect: () => {
      calls.reconnect++
    },
  }
}
