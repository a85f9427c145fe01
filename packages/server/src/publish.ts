import { randomUUID } from 'node:crypto'
import { either } from 'fp-ts'
import { FatesEvent, describeErrors, isSnowflakeId } from '@fates-rx/core/protocol'

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
}

/** An event ready to store: `m.eid` and `m.ts` always present. */
export interface NormalizedEvent {
  readonly eid: string
  readonly event: FatesEvent
}

/**
 * Checks a channel and an event and fills in what the original's producer always set: `m.eid`
 * (a random UUID) and `m.ts` (unix seconds, fractional) when missing. Pure apart from the
 * UUID and the clock, which can be injected.
 */
export function normalizePublish(
  channel: unknown,
  event: unknown,
  now: () => number = Date.now,
  newId: () => string = randomUUID,
): either.Either<string, NormalizedEvent> {
  if (!isChannel(channel)) {
    return either.left('channel must be "bot-<id>", "server-<id>" or "global"')
  }
  const decoded = FatesEvent.decode(event)
  if (either.isLeft(decoded)) return either.left(`event: ${describeErrors(decoded.left)}`)
  const { m } = decoded.right
  if (m.eid !== undefined && m.eid === '') return either.left('event: m.eid must not be empty')
  const eid = m.eid ?? newId()
  const ts = m.ts ?? now() / 1000
  return either.right({ eid, event: { ...decoded.right, m: { ...m, eid, ts } } })
}
