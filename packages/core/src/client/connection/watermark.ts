import type { ControlPayload, ReceivedEvent } from '../../codec/index.js'
import { Timestamps } from '../../protocol/limits.js'

// The resume mark, one rule for the connection's machine and the tabs' machine: how it moves
// (`advance`), where it starts (`readyMark`), and which replayed events fill a gap (`unseen`).

/**
 * The newest event delivered: where a resumed replay starts. Moved only forward, never past
 * the receiver's clock plus {@link Timestamps}`.maxAheadSeconds`.
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
  readonly clock?: number | undefined
  /**
   * The other eids delivered with this same `ts`, oldest first (a burst stamped in one
   * millisecond), at most {@link MaxTiedEids}; absent when none. A replay's tie with the mark
   * is then known exactly, even by a tab taking over whose dedupe never saw them.
   */
  readonly tied?: readonly string[] | undefined
  /**
   * Per channel, the position (`m.pos`) of the last event received on it (a replay's moved in
   * the order the server sent them, the order stored, once it is whole), from a server that
   * stamps them: sent back as the identify's `after`, so that such a server replays exactly
   * what followed (no `m.ts` rule, no tie, no clock). Absent when no event had one (the
   * original server): the `m.ts` rule alone decides then.
   */
  readonly pos?: Readonly<Record<string, string>> | undefined
}

/**
 * The most eids a mark remembers at its timestamp. A burst beyond it still loses nothing: its
 * unremembered eids are passed on at a resume, and the eid dedupe (`dedupeCapacity`) drops
 * those already delivered.
 */
export const MaxTiedEids = 64

/**
 * The highest `m.ts` a mark may take at `atMs` (the receiver's clock, ms): that clock, read as
 * the server's (`clock`), plus the stated skew ({@link Timestamps}`.maxAheadSeconds`). An event
 * stamped later (a producer's clock far ahead, or `1e300`) then cannot make every later event
 * look seen.
 */
export const markCeiling = (atMs: number, clock = 0): number => atMs / 1000 + clock + Timestamps.maxAheadSeconds

/**
 * The mark after delivering `event` at `atMs`: `mark` itself (the same object, so a caller can
 * tell with `===` that nothing changed) unless the event's `m.ts`, clamped to
 * {@link markCeiling}, is later, or ties with it under an eid not yet remembered, or its
 * channel's `m.pos` changed. {@link advanceAll} for one event: one rule.
 *
 * The ceiling needs the server's clock: a mark that has none (a tab that joined before its
 * leader's `ready` and was told no mark) is not clamped until it learns one.
 */
export function advance(mark: Watermark | undefined, event: ReceivedEvent, atMs: number): Watermark | undefined {
  return advanceAll(mark, [event], atMs)
}

/**
 * The mark after delivering `events` in order at `atMs`: exactly {@link advance} event by
 * event, but the moving mark is held in locals and built once at the end, so that a frame's
 * run of live events costs one mark, not one per event (measured: the mark per event was a
 * fifth of what `connect()` allocated beyond `fromFrames` + `dedupeEvents`). `mark` itself
 * when nothing moved.
 *
 * @example
 * advanceAll(undefined, [first, second], Date.now())?.eid // second's eid, when it is later
 */
export function advanceAll(mark: Watermark | undefined, events: readonly ReceivedEvent[], atMs: number): Watermark | undefined {
  // `exists`: a mark (given, or made by a first `m.pos`) that the next `m.ts` ties with; without
  // one, `ts` is -Infinity, which no `m.ts` is below.
  let exists = mark !== undefined
  let ts = mark?.ts ?? -Infinity
  let eid = mark?.eid ?? ''
  let tied = mark?.tied
  let pos = mark?.pos
  let ownPos = false
  let moved = false
  const clock = mark?.clock
  const ceiling = clock === undefined ? Infinity : markCeiling(atMs, clock)
  // Indexed: a for-of's iterator and results were allocation per event until V8 optimised it.
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as ReceivedEvent
    // The position moves whatever m.ts says: the last given per channel (the machine gives a
    // replay's events in the order they came, and its mark counts only once the replay is
    // whole). Never one past an event not received: a replay out of offset order can only
    // move it back, which costs repeats (the eid dedupe drops them), never a loss. The server
    // checks what it is sent.
    const chan = event.chan
    const at = event.m.pos
    if (chan !== undefined && typeof at === 'string' && pos?.[chan] !== at) {
      // Copied once per call, then written in place: the copy is this call's own. (Equivalent
      // mutants, left counted: copying on every write, by either line: the same mark, slower.)
      if (!ownPos) pos = { ...pos }
      ownPos = true
      ;(pos as Record<string, string>)[chan] = at
      exists = moved = true
    }
    let next = event.m.ts ?? -Infinity
    // `next !== next`: NaN never comes from JSON, but a hand-built event must not poison the mark.
    if (next !== next) continue
    // (An equivalent mutant, left counted: `>=`, which sets the ceiling it already equals.)
    if (next > ceiling) next = ceiling
    const id = event.m.eid ?? ''
    if (next < ts) continue
    if (exists && next === ts) {
      if (id === eid || (tied !== undefined && (tied.length >= MaxTiedEids || tied.includes(id)))) continue
      // A ready mark's '' is no event: nothing to remember of it.
      if (eid !== '') tied = tied === undefined ? [eid] : [...tied, eid]
    } else tied = undefined
    exists = moved = true
    ts = next
    eid = id
  }
  return moved ? { ts, eid, clock, tied, pos } : mark
}

/**
 * The earlier of two marks (`a` on a tie), for a connection that has two to resume from: a
 * takeover's own and its record's (`persist`). The record is the leader's connection's, which
 * waits for a replay's `done_prior`; the tab's may have started at a `ready` whose replay never
 * ended. Resuming from the earlier costs repeats, which the eid dedupe drops, never a loss.
 */
export function older(a: Watermark | undefined, b: Watermark | undefined): Watermark | undefined {
  if (a === undefined) return b
  return b !== undefined && b.ts < a.ts ? b : a
}

/** The later of two marks (`a` on a tie), for a mark learnt from elsewhere (another tab). */
export function newer(a: Watermark | undefined, b: Watermark | undefined): Watermark | undefined {
  if (a === undefined) return b
  return b !== undefined && b.ts > a.ts ? b : a
}

/**
 * The mark at a `ready`: `mark` when there is one, having learnt the server's clock if it had
 * not; else a new mark at `ready`'s `ts` (the server's clock, which also stamps every event
 * published without an `m.ts`; the receiver's when it sent none). `clock` is the difference
 * between the two, and a mark that had none is held to the ceiling it now has ({@link
 * markCeiling}). A `ts` that is no time at all (not finite) counts as absent.
 */
export function readyMark(ready: ControlPayload, atMs: number, mark?: Watermark): Watermark {
  const own = atMs / 1000
  // (An equivalent mutant, left counted: the `undefined` test → `true`: isFinite(undefined) is false.)
  const ts = ready.ts !== undefined && Number.isFinite(ready.ts) ? ready.ts : own
  if (mark === undefined) return { ts, eid: '', clock: ts - own, tied: undefined }
  if (mark.clock !== undefined) return mark
  // A mark without the server's clock had no ceiling (one restored by `persist`, or moved by
  // events before the first `ready`): one past it (a garbage record, another server's clock)
  // would take every event for seen and, never moving back, leave every later gap unfilled.
  const ceiling = ts + Timestamps.maxAheadSeconds
  return mark.ts > ceiling ? { ...mark, ts: ceiling, eid: '', clock: ts - own, tied: undefined } : { ...mark, clock: ts - own }
}

/**
 * Whether a replayed `event` may be one the gap after `mark` lost: every event with a later
 * `m.ts`, and every tie but those the mark remembers delivering. A tie is never judged by eid
 * order (eids are random: a burst sharing a millisecond has no order among them). Past
 * {@link MaxTiedEids} remembered, every tie is passed on and the client's eid dedupe drops
 * those already delivered: the dedupe's capacity (`dedupeCapacity`) then bounds how many
 * events sharing the mark's timestamp a gap can hold without one arriving twice.
 */
export function unseen(event: ReceivedEvent, mark: Watermark): boolean {
  const ts = event.m.ts ?? -Infinity
  // (An equivalent mutant, left counted: `>=` in the return, where the two are never equal.)
  if (ts !== mark.ts) return ts > mark.ts
  const eid = event.m.eid ?? ''
  const tied = mark.tied
  return eid !== mark.eid && (tied === undefined || !tied.includes(eid))
}
