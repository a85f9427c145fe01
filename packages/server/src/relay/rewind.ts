import { formatPosition, parsePosition } from '@fates-rx/core/protocol'
import { DefaultDedupeCapacity, parseRecord, recordText } from '@fates-rx/core/sans-io'

// What the relay does about upstream events its store gave up on: its upstream client had
// moved its resume mark past them, so a fresh client resumes from a mark rewound to before
// them and the origin sends them again. Pure: the record in, the record out.

/** An upstream event the relay could not store, as far as resuming goes: where it was on the origin. */
export interface LostEvent {
  /** The channel it was published on, as the mark's positions are keyed: `bot-<id>`, `server-<id>` or `global`. */
  readonly channel: string
  /** Its `m.ts` (Unix seconds), or `undefined` when it had none. */
  readonly ts: number | undefined
  /** Its `m.pos` from the origin (`"<epoch>:<offset>"`), or `undefined` when the origin stamps none. */
  readonly pos: string | undefined
}

/**
 * The upstream client's record (core's `persist` text) rewound so that a client resuming from it
 * is sent every event of `lost` again:
 * - the mark's `m.ts` goes back to the earliest lost one (to before every event when one had
 *   no `m.ts`), with no eid or tie remembered, so that core's `m.ts` rule counts each of them
 *   unseen (an origin without positions, or one whose answer is not `exact`);
 * - per channel that lost events, the position goes back to just before the earliest of them
 *   (never forward: a record rewound before stays as far back), so that an origin which
 *   stamps positions replays them exactly; when that cannot be said
 *   (a lost event without a position, another epoch, the channel's first event) the channel's
 *   position is dropped, and the origin replays its whole history for the `m.ts` rule;
 * - other channels' positions and the identify ledger are kept: a fresh client spends the same
 *   budget as the one it replaces.
 *
 * A record without a mark is returned as it is: a client with no mark asks for the whole
 * history (the relay's `sendAll`), lost events included. Events the store holds already come
 * again too; the store recognizes them by eid.
 *
 * @example
 * rewoundRecord(record, [{ channel: 'bot-1', ts: 1700000000.5, pos: 'e1:42' }]) // its mark: ts 1700000000.5, pos['bot-1'] 'e1:41'
 */
export function rewoundRecord(text: string | undefined, lost: readonly LostEvent[]): string | undefined {
  const record = parseRecord(text)
  if (record?.mark === undefined || lost.length === 0) return text
  const { mark } = record
  let ts = mark.ts
  for (const event of lost) ts = Math.min(ts, event.ts ?? -Infinity)
  const pos: Record<string, string> = { ...mark.pos }
  for (const channel of new Set(lost.map((event) => event.channel))) {
    const before = positionBefore(pos[channel], lost.filter((event) => event.channel === channel))
    // Stryker disable next-line ConditionalExpression: equivalent: a channel set to undefined is left out of the record's JSON as a deleted one is.
    if (before === undefined) delete pos[channel]
    else pos[channel] = before
  }
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent: an empty `pos` is dropped when the record is read (core's parseRecord).
  const kept = Object.keys(pos).length > 0 ? { pos } : {}
  return recordText({ mark: { ts, eid: '', ...kept }, ledger: record.ledger })
}

/**
 * The position just before the earliest of `lost` on one channel, in the epoch of `current` (the
 * mark's), or `current` itself when it is earlier already (a record rewound before, for losses
 * not yet asked for again), or `undefined` when there is none to trust.
 */
function positionBefore(current: string | undefined, lost: readonly LostEvent[]): string | undefined {
  const kept = parsePosition(current)
  let earliest = kept === undefined ? 0 : kept.offset + 1
  for (const event of lost) {
    const position = parsePosition(event.pos)
    if (position === undefined || position.epoch !== kept?.epoch) return undefined
    earliest = Math.min(earliest, position.offset)
  }
  // Offsets count from 1: before the first event there is no position, only the whole history.
  return earliest > 1 ? formatPosition({ epoch: (kept as { epoch: string }).epoch, offset: earliest - 1 }) : undefined
}

/**
 * Whether a client that asks for the whole history (`sendAll`, as the relay's upstream clients
 * do) resuming from `text` (core's record) is sent `lost` again: on a channel whose position the
 * record keeps, only what followed it (an exact replay), so only an event of that epoch after
 * it (one it cannot be compared with counts as not sent); on any other channel, the whole
 * history, `lost` included while the origin's history holds it. Pure.
 *
 * @example
 * asksFor(record, { channel: 'global', ts: 1700000000, pos: 'e1:7' }) // false when `global` resumes after e1:9
 */
export function asksFor(text: string | undefined, lost: LostEvent): boolean {
  const kept = parseRecord(text)?.mark?.pos?.[lost.channel]
  if (kept === undefined) return true
  const after = parsePosition(kept)
  const position = parsePosition(lost.pos)
  return after !== undefined && position !== undefined && position.epoch === after.epoch && position.offset > after.offset
}

/**
 * Keeps a lost event's routing (`live`: whether it goes to viewers as it comes again) under its
 * eid in `lost`, the newest last, letting the oldest go past `capacity` ({@link
 * DefaultDedupeCapacity}, the eid memory's): a loss so large is one the store's replays cannot
 * make whole either, and the map must not grow with an upstream that never brings them back.
 */
export function rememberLost(lost: Map<string, boolean>, eid: string, live: boolean, capacity = DefaultDedupeCapacity): void {
  lost.delete(eid)
  lost.set(eid, live)
  if (lost.size > capacity) lost.delete(lost.keys().next().value as string)
}
