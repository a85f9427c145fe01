import { randomUUID } from 'node:crypto'
import { either } from 'fp-ts'
import { FatesEvent, describeErrors } from '@fates-rx/core/protocol'

/** A channel events are published on: `bot-<id>`, `server-<id>` or `global`. */
export const ChannelPattern = /^(?:(?:bot|server)-[1-9]\d{0,19}|global)$/

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
  if (typeof channel !== 'string' || !ChannelPattern.test(channel)) {
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
