import { parsePosition, type Position, type ResumeOutcome } from '@fates-rx/core/protocol'
import type { EventsById } from '../stores/store.js'

/** What one channel's `send_all` replay is made of, and whether it is exact. */
export interface ReplayPlan {
  /** The events to replay, in order, by eid. */
  readonly events: readonly (readonly [eid: string, event: unknown])[]
  /**
   * `exact` when `events` are exactly those stored after the client's position, in the order
   * stored; otherwise why the whole history is replayed, in `m.ts` order, as the original did.
   */
  readonly outcome: ResumeOutcome
}

/** What {@link planReplay} decides by. */
export interface ReplayInput {
  /** The channel's stored events, keyed by eid in no useful order. */
  readonly stored: EventsById
  /** The client's position in this channel (the identify's `after`), if it sent one. */
  readonly after?: Position | undefined
  /** `false`: the store stamps no positions (`positions: false`, or a store without them). */
  readonly positioned: boolean
  /**
   * The store's newest position in the channel, read before `stored` (so that `stored` holds
   * at least every event up to it); `undefined` when the store has no life recorded for it.
   */
  readonly head?: Position | undefined
  /**
   * The newest position before a hole the store cannot vouch for (a relay whose upstream
   * resumed a gap its origin could not fill): a client at or before it gets what the store
   * holds after its position, as for `exact`, but told `too-old`.
   */
  readonly floor?: Position | undefined
}

/** `m.ts` of a stored event, for ordering a replay; events without one go first. */
function tsOf(event: unknown): number {
  const ts = (event as { m?: { ts?: unknown } } | null)?.m?.ts
  return typeof ts === 'number' ? ts : Number.NEGATIVE_INFINITY
}

/** The whole history in `m.ts` order (ties in the store's order): the original's replay. */
const whole = (stored: EventsById, outcome: ResumeOutcome): ReplayPlan => ({
  events: Object.entries(stored).sort(([, a], [, b]) => tsOf(a) - tsOf(b)),
  outcome,
})

/**
 * One channel's replay, sans I/O: exactly the events stored after the client's position when
 * the store can vouch for it, else the whole history with the reason why not. Exact needs a
 * position of the store's current life (`epoch`), not past its newest (`ahead`), every event
 * after it still stored (`too-old` when some were trimmed), and every stored event positioned
 * in this life (`unpositioned`: an original producer's, or no positions at all).
 *
 * @example
 * planReplay({ stored, after: { epoch: 'e', offset: 7 }, head: { epoch: 'e', offset: 9 }, positioned: true })
 * // { events: [[eid8, event8], [eid9, event9]], outcome: 'exact' }
 */
export function planReplay(input: ReplayInput): ReplayPlan {
  const { stored, after, head } = input
  if (after === undefined) return whole(stored, 'none')
  if (!input.positioned) return whole(stored, 'unpositioned')
  if (head === undefined || head.epoch !== after.epoch) return whole(stored, 'epoch')
  if (after.offset > head.offset) return whole(stored, 'ahead')
  const newer: [offset: number, eid: string, event: unknown][] = []
  let upToHead = 0
  for (const [eid, event] of Object.entries(stored)) {
    const position = parsePosition((event as { m?: { pos?: unknown } } | null)?.m?.pos)
    if (position === undefined) return whole(stored, 'unpositioned')
    if (position.epoch !== head.epoch) {
      // An earlier life's event that a restarted Redis kept (its snapshot): a new life goes on
      // counting from the offset it found, so one at or before the client's offset was stored
      // before every event of this life, and is not after the position. Any other: can't tell.
      if (position.offset <= after.offset) continue
      return whole(stored, 'unpositioned')
    }
    if (position.offset <= after.offset) continue
    newer.push([position.offset, eid, event])
    if (position.offset <= head.offset) upToHead++
  }
  // Offsets are consecutive and unique: every one after the client's, up to the head's, must
  // still be stored (later ones were stored after the head was read, and are not counted).
  if (upToHead < head.offset - after.offset) return whole(stored, 'too-old')
  newer.sort(([a], [b]) => a - b)
  const { floor } = input
  const holed = floor !== undefined && floor.epoch === after.epoch && after.offset <= floor.offset
  return { events: newer.map(([, eid, event]) => [eid, event] as const), outcome: holed ? 'too-old' : 'exact' }
}
