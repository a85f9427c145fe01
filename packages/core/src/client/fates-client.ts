import type { Observable } from 'rxjs'
import type { ControlPayload, ReceivedEvent } from '../codec/codecs.js'
import type { Diagnostic } from '../operators/diagnostic.js'
import type { ConnectionMetrics } from './connection/metrics.js'
import type { ConnectionStatus } from './connection/status.js'

// What every way of connecting returns (this tab's own client, a tab of a shared connection,
// a port of the SharedWorker's hub): in a file of its own so that the interpreters and the
// chunks that wrap a client (persist, the tabs' sharing) name it without importing connect().

/** A lazy connection to the Fates List websocket, as streams. */
export interface FatesClient {
  /** Every text frame as received (before splitting), with the token replaced by `[redacted]` if a server echoed it. */
  readonly frame$: Observable<string>
  /** Every control payload (`identity`, `ready`, `done_prior`, errors, unknown codes), details redacted. */
  readonly control$: Observable<ControlPayload>
  /** Every event once (deduplicated by `m.eid`), `prior: true` on a `sendAll` replay. */
  readonly event$: Observable<ReceivedEvent>
  /** Segments that could not be delivered as they were (see {@link Diagnostic}). */
  readonly diagnostic$: Observable<Diagnostic>
  /** The connection's state; replays the current one to each new subscriber. */
  readonly status$: Observable<ConnectionStatus>
  /** Counters; replays the current ones, then emits on change (throttled) and on status change. */
  readonly metrics$: Observable<ConnectionMetrics>
  /** Closes the connection (1000) and stays `closed` until `reconnect()`. */
  close(): void
  /**
   * Connects again now: after `failed`, after giving up, after `close()`, or to replace a
   * working connection. The attempt count restarts; the ratelimit budget is still respected.
   * With no subscriber it only clears a `close()`: the next subscription connects.
   */
  reconnect(): void
}
