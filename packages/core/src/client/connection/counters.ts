import type { Effect } from './machine.js'
import { type ConnectionMetrics, utf8Length } from './metrics.js'

// The counters behind metrics$, as a pure reducer: the interpreter folds every effect it
// performs, and the two things only it sees (how many segments a frame split into, what the
// eid dedupe let through of a delivery), into one immutable value. So no counter is a mutation
// scattered through connect.ts, and a test can replay effects to check the counts.

/** What the interpreter observed itself, beside the machine's effects. */
export type Observed =
  /**
   * A frame received (`text`; its UTF-8 size `bytes` when the socket said, else counted from
   * the text) and split into `payloads` segments, each decoded.
   */
  | { readonly type: 'decoded'; readonly text: string; readonly bytes?: number | undefined; readonly payloads: number }
  /**
   * A `deliver` or `deliver-live` effect performed: of its `offered` events, `events` passed the
   * eid dedupe, `resumed` of them filling a gap.
   */
  | { readonly type: 'passed'; readonly offered: number; readonly events: number; readonly resumed: number }

/** The counts {@link ConnectionMetrics} is made of, and what the machine offered to the dedupe. */
export interface Counters {
  readonly frames: number
  readonly bytes: number
  readonly payloads: number
  readonly events: number
  readonly resumed: number
  /** Events the machine delivered into the eid dedupe; those that did not pass were duplicates. */
  readonly offered: number
  readonly diagnostics: number
  readonly reconnects: Readonly<Record<string, number>>
  readonly connectToReadyMs: number | undefined
}

/** Nothing counted yet. */
export const NoCounts: Counters = {
  frames: 0,
  bytes: 0,
  payloads: 0,
  events: 0,
  resumed: 0,
  offered: 0,
  diagnostics: 0,
  reconnects: {},
  connectToReadyMs: undefined,
}

/**
 * The counters after one performed effect or observation: `counters` itself (the same object)
 * when it counts nothing, so the effects that do not count (a send, a status, a timer) cost no
 * allocation. Pure.
 *
 * @example
 * count(NoCounts, { type: 'decoded', text: 'E1', payloads: 1 }).frames // 1
 */
export function count(counters: Counters, effect: Effect | Observed): Counters {
  switch (effect.type) {
    case 'decoded':
      return add(counters, 1, effect.bytes ?? utf8Length(effect.text), effect.payloads, 0, 0, 0, 0)
    case 'passed':
      return add(counters, 0, 0, 0, effect.offered, effect.events, effect.resumed, 0)
    case 'diagnostic':
      return add(counters, 0, 0, 0, 0, 0, 0, 1)
    case 'count':
      return { ...counters, reconnects: { ...counters.reconnects, [effect.reconnect]: (counters.reconnects[effect.reconnect] ?? 0) + 1 } }
    case 'ready-after':
      return { ...counters, connectToReadyMs: effect.ms }
    default:
      return counters
  }
}

/**
 * `c` plus these counts, written out field by field: it runs twice a frame, and a spread
 * there took V8's slow object clone (measured: 12% of connect()'s profile at one event per
 * frame, as machine.ts's state `copy` found for the state).
 */
const add = (
  c: Counters,
  frames: number,
  bytes: number,
  payloads: number,
  offered: number,
  events: number,
  resumed: number,
  diagnostics: number,
): Counters => ({
  frames: c.frames + frames,
  bytes: c.bytes + bytes,
  payloads: c.payloads + payloads,
  events: c.events + events,
  resumed: c.resumed + resumed,
  offered: c.offered + offered,
  diagnostics: c.diagnostics + diagnostics,
  reconnects: c.reconnects,
  connectToReadyMs: c.connectToReadyMs,
})

/** What `metrics$` emits for `counters`, with the time of the last frame if there was one. */
export function metricsOf(counters: Counters, lastFrameAt: number | undefined): ConnectionMetrics {
  const { offered, connectToReadyMs, reconnects, ...counts } = counters
  return {
    ...counts,
    duplicates: offered - counts.events,
    reconnects: { ...reconnects },
    ...(connectToReadyMs === undefined ? {} : { connectToReadyMs }),
    ...(lastFrameAt === undefined ? {} : { lastFrameAt }),
  }
}
