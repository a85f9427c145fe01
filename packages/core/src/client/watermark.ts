import type { ControlPayload, ReceivedEvent } from '../codec/index.js'
import { Timestamps } from '../protocol/index.js'

// The resume mark, one rule for the connection's machine and the tabs' machine: how it moves
// (`advance`), where it starts (`readyMark`), and which replayed events fill a gap (`unseen`).

/**
 * The newest event delivered: where a resumed replay starts. Moved only forward, never past
 * the receiver's clock plus {@link Timestamps.maxAheadSeconds}.
 */
export interface Watermark {
  /** The newest `m.ts` delivered (Unix seconds; `-Infinity` when none had one), clamped. */
  readonly ts: number
  /** The `m.eid` of the event that last moved the mark (`''` when none): for logs, not for order. */
  readonly eid: string
  /**
   * The server's clock minus the receiver's (seconds), learnt from the first `ready`'s `ts`: the
   * mark's ceiling is the receiver's clock read as the server's, so that a client whose own clock
   * is wrong by hours neither clamps every mark (and replays the whole history) nor lets one
   * through. Absent: 0.
   */
  readonly clock?: number
}

/**
 * The highest `m.ts` a mark may take at `atMs` (the receiver's clock, ms): that clock, read as
 * the server's (`clock`), plus the stated skew ({@link Timestamps.maxAheadSeconds}). An event
 * stamped later (a producer's clock far ahead, or `1e300`) then cannot make every later event
 * look seen.
 */
export const markCeiling = (atMs: number, clock = 0): number => atMs / 1000 + clock + Timestamps.maxAheadSeconds

/**
 * The mark after delivering `event` at `atMs`: `mark` itself (the same object, so a caller can
 * tell with `===` that nothing changed) unless the event's `m.ts`, clamped to
 * {@link markCeiling}, is later. One allocation at most, none when the mark stays.
 */
export function advance(mark: Watermark | undefined, event: ReceivedEvent, atMs: number): Watermark | undefined {
  let ts = event.m.ts ?? -Infinity
  // `ts !== ts`: NaN never comes from JSON, but a hand-built event must not poison the mark.
  if (ts !== ts) return mark
  const clock = mark?.clock ?? 0
  const ceiling = markCeiling(atMs, clock)
  if (ts > ceiling) ts = ceiling
  if (mark !== undefined && ts <= mark.ts) return mark
  return { ts, eid: event.m.eid ?? '', clock }
}

/** The later of two marks (`a` on a tie), for a mark learnt from elsewhere (another tab). */
export function newer(a: Watermark | undefined, b: Watermark | undefined): Watermark | undefined {
  if (a === undefined) return b
  return b !== undefined && b.ts > a.ts ? b : a
}

/**
 * The mark set at the first `ready`: the server's clock (`ts`, which also stamps every event
 * published without an `m.ts`), the receiver's when it sent none; the difference between the
 * two is the mark's `clock`. A `ts` that is no time at all (not finite) counts as absent.
 */
export function readyMark(ready: ControlPayload, atMs: number): Watermark {
  const own = atMs / 1000
  const ts = ready.ts !== undefined && Number.isFinite(ready.ts) ? ready.ts : own
  return { ts, eid: '', clock: ts - own }
}

/**
 * Whether a replayed `event` may be one the gap after `mark` lost: every event with an `m.ts` at
 * or after the mark's. A tie is passed on, not judged by eid (eids are random: a burst sharing
 * a millisecond has no order among them); the client's eid dedupe then drops those already
 * delivered. So the dedupe's capacity (`dedupeCapacity`) bounds how many events sharing the
 * mark's timestamp a gap can hold without one arriving twice.
 */
export const unseen = (event: ReceivedEvent, mark: Watermark): boolean => (event.m.ts ?? -Infinity) >= mark.ts
