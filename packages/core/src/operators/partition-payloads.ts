import { Observable, Subject, type Subscription } from 'rxjs'
import type { ControlPayload, ReceivedEvent } from '../codec/index.js'
import type { Decoded, Diagnostic } from './diagnostic.js'

/** The three streams a decoded stream splits into. */
export interface PayloadStreams {
  /** Every control payload, `identity`, `ready`, `done_prior` and unknown codes included. */
  readonly control$: Observable<ControlPayload>
  /** Every event, as `{ m, ctx, chan? }`. */
  readonly event$: Observable<ReceivedEvent>
  /** Segments that failed, and events delivered with a rounded snowflake. */
  readonly diagnostic$: Observable<Diagnostic>
}

/**
 * Splits decoded results into `control$`, `event$` and `diagnostic$` over one shared upstream
 * subscription (rxjs's own `partition` subscribes once per output). The upstream is
 * subscribed while any of the three has a subscriber, and resubscribed after all have left.
 *
 * An event whose snowflake lost precision is delivered on `event$` and reported on
 * `diagnostic$`.
 */
export function partitionPayloads(decoded$: Observable<Decoded>): PayloadStreams {
  // Written with `new Observable` rather than `share()` + three `filter`/`map` chains: those
  // run three predicates and up to two maps per payload; one router calls exactly one
  // subject per payload. Measured, that is most of the pipeline's overhead over JSON.parse.
  const fresh = () => ({
    control: new Subject<ControlPayload>(),
    event: new Subject<ReceivedEvent>(),
    diagnostic: new Subject<Diagnostic>(),
  })
  // A new set of subjects for each run of the upstream, so that a stream that completed or
  // errored can be subscribed again (as share() would allow).
  let outputs = fresh()
  let refs = 0
  let upstream: Subscription | undefined

  const route = (d: Decoded): void => {
    if (d.type === 'event') {
      outputs.event.next(d.event)
      if (d.diagnostic !== undefined) outputs.diagnostic.next(d.diagnostic)
    } else if (d.type === 'control') outputs.control.next(d.control)
    else outputs.diagnostic.next(d.diagnostic)
  }

  const output = <T>(pick: (o: typeof outputs) => Subject<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      if (refs === 0) outputs = fresh()
      const { control, event, diagnostic } = outputs
      const inner = pick(outputs).subscribe(subscriber)
      if (refs++ === 0) {
        upstream = decoded$.subscribe({
          next: route,
          error: (error: unknown) => {
            control.error(error)
            event.error(error)
            diagnostic.error(error)
          },
          complete: () => {
            control.complete()
            event.complete()
            diagnostic.complete()
          },
        })
      }
      return () => {
        inner.unsubscribe()
        if (--refs === 0) {
          // Stryker disable next-line OptionalChaining: equivalent: the first subscription set `upstream` before this teardown could run (rxjs runs a teardown returned by a subscriber that already ended once it is returned).
          upstream?.unsubscribe()
          upstream = undefined
        }
      }
    })

  return {
    control$: output((o) => o.control),
    event$: output((o) => o.event),
    diagnostic$: output((o) => o.diagnostic),
  }
}
