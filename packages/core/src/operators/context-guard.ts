import { EventName } from '../protocol/events.js'

// The ctx guard, apart from fast-guards.ts: it is needed only by the ctx check, which connect()
// loads as a chunk of its own; in one module with the payload guards (which every app
// downloads) it would be downloaded up front with them. Same rule as those: a shortcut that
// implies the codec's `is`, never the definition (fast-guards.test.ts holds this).

type Json = Record<string, unknown>

const isUser = (u: unknown): boolean => u === null || typeof u === 'string' || typeof u === 'number'
const isOptionalBoolean = (u: unknown): boolean => u === undefined || typeof u === 'boolean'

/**
 * A fast guard that implies `contextCodecOf(e).is(ctx)` for the commonest contexts (votes,
 * views, invites: four events in five); false for every other name, which the codec decides.
 */
export function looksLikeContext(e: number, ctx: Json): boolean {
  switch (e) {
    case EventName.BotVote:
    case EventName.ServerVote:
      return isUser(ctx['user']) && Number.isSafeInteger(ctx['votes']) && isOptionalBoolean(ctx['test'])
    case EventName.BotView:
    case EventName.ServerView:
      return isUser(ctx['user']) && isOptionalBoolean(ctx['widget'])
    case EventName.BotInvite:
    case EventName.ServerInvite:
      return isUser(ctx['user']) && isOptionalBoolean(ctx['api'])
    default:
      return false
  }
}
