import { randomUUID } from 'node:crypto'
import { either } from 'fp-ts'
import { contextCodecOf, FatesEvent, describeErrors, isSnowflakeId, Timestamps } from '@fates-rx/core/protocol'

/**
 * True for a channel events can be published on: `global`, or `bot-<id>` / `server-<id>` with
 * an ID that can identify (core's one snowflake rule, {@link isSnowflakeId}): a channel no
 * client could ever subscribe to is refused rather than stored.
 */
export function isChannel(channel: unknown): channel is string {
  if (typeof channel !== 'string') return false
  if (channel === 'global') return true
  const dash = channel.indexOf('-')
  const kind = channel.slice(0, dash)
  return (kind === 'bot' || kind === 'server') && isSnowflakeId(channel.slice(dash + 1))
}

/** A publish request the server refused; the message says why and never echoes values. */
export class PublishError extends Error {
  override readonly name = 'PublishError'

  constructor(
    message: string,
    /** In a batch, the index of the event refused. */
    readonly index?: number,
  ) {
    super(message)
  }
}

/** An event ready to store: `m.eid` and `m.ts` always present. */
export interface NormalizedEvent {
  readonly eid: string
  readonly event: FatesEvent
}

/**
 * Limits on what `POST /publish` and `publish()` accept. Real events are two or three levels
 * deep and carry UUIDs as eids; the limits only keep out what would hurt every client of the
 * channel (a replay that cannot be encoded, an eid that dwarfs the event).
 */
export const PublishLimits = Object.freeze({
  /** The deepest nesting of arrays and objects in an event (`{"m":{…}}` is 2). */
  maxDepth: 32,
  /** The longest `m.eid`, in characters (a UUID has 36). */
  maxEidLength: 128,
} as const)

/**
 * True when `value` nests arrays and objects deeper than `limit`. It recurses at most `limit`
 * calls deep, whatever the payload: it stops as soon as the limit is passed, so a payload
 * cannot exhaust the stack of the check meant to refuse it.
 */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (limit <= 0) return true
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, limit - 1)) return true
    return false
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && nestedDeeperThan((value as Record<string, unknown>)[key], limit - 1)) return true
  }
  return false
}

/**
 * Checks a channel and an event and fills in what the original's producer always set: `m.eid`
 * (a random UUID) and `m.ts` (unix seconds, fractional) when missing. The event must fit the
 * context codec core defines for its `m.e` (a vote's `votes` is an integer), since every
 * client drops an event that does not; unknown event numbers take any object, as the protocol
 * allows (`checkContext: false` skips that one check, for events relayed from an upstream,
 * which a direct client of the upstream would receive too). A given `m.ts` must be a time:
 * finite, not before {@link Timestamps}`.min` and at most {@link Timestamps}`.maxAheadSeconds` ahead
 * of the server's clock, since one event stamped `1e300` would make every client take every
 * later event for one already seen (`checkTimestamp: false` skips it for relayed events, as
 * `checkContext`). Pure apart from the UUID and the clock, which can be injected.
 */
export function normalizePublish(
  channel: unknown,
  event: unknown,
  now: () => number = Date.now,
  newId: () => string = randomUUID,
  checkContext = true,
  checkTimestamp = true,
): either.Either<string, NormalizedEvent> {
  if (!isChannel(channel)) {
    return either.left('channel must be "bot-<id>", "server-<id>" or "global"')
  }
  // Before anything walks the event: a decoder or encoder must never meet unbounded depth.
  if (nestedDeeperThan(event, PublishLimits.maxDepth)) {
    return either.left(`event: nested deeper than ${PublishLimits.maxDepth} levels`)
  }
  // The type guard first: it allocates nothing, and most events are valid. Decoding runs only
  // to explain a failure.
  if (!FatesEvent.is(event)) {
    const decoded = FatesEvent.decode(event)
    return either.left(either.isLeft(decoded) ? `event: ${describeErrors(decoded.left)}` : 'event: expected FatesEvent')
  }
  const { m, ctx } = event
  if (m.eid !== undefined && m.eid === '') return either.left('event: m.eid must not be empty')
  if (m.eid !== undefined && m.eid.length > PublishLimits.maxEidLength) {
    return either.left(`event: m.eid must be at most ${PublishLimits.maxEidLength} characters`)
  }
  // A lone surrogate (JSON's \uD800 escapes can carry one) becomes U+FFFD in any UTF-8 store:
  // two different eids would become one key in Redis, and the replayed eid another than the live one.
  if (m.eid !== undefined && /\p{Cs}/u.test(m.eid)) return either.left('event: m.eid must be well-formed Unicode (no lone surrogate)')
  if (checkTimestamp && m.ts !== undefined) {
    const problem = timestampProblem(m.ts, now())
    if (problem !== undefined) return either.left(`event: m.ts ${problem}`)
  }
  const context = contextCodecOf(m.e)
  if (checkContext && !context.is(ctx)) {
    const decoded = context.decode(ctx)
    return either.left(`event: ctx: ${either.isLeft(decoded) ? describeErrors(decoded.left) : `expected ${context.name}`} (for m.e ${m.e})`)
  }
  const eid = m.eid ?? newId()
  const ts = m.ts ?? now() / 1000
  // Built in one literal with m spread last: V8 copies a parsed object into a new one far
  // faster this way than when properties are added after a spread (about 1.3 µs → 0.15 µs per
  // event, a tenth of the server's time in batch publishing). m's own eid and ts, when present,
  // are the ones chosen above, unless given as `undefined` (only in-process): set them again then.
  const stamped = { eid, ts, ...m }
  if (stamped.eid !== eid || stamped.ts !== ts) Object.assign(stamped, { eid, ts })
  return either.right({ eid, event: { ...event, m: stamped } })
}

/**
 * Why `ts` (Unix seconds) is no event's time at `nowMs`, or `undefined` when it is one. The
 * words name the bound, never the value (a value can be a megabyte of digits).
 */
export function timestampProblem(ts: number, nowMs: number): string | undefined {
  if (!Number.isFinite(ts)) return 'must be a finite number of Unix seconds'
  if (ts < Timestamps.min) return `must not be before ${Timestamps.min} (Unix seconds)`
  if (ts > nowMs / 1000 + Timestamps.maxAheadSeconds) {
    return `must be at most ${Timestamps.maxAheadSeconds} s ahead of the server's clock`
  }
  return undefined
}
