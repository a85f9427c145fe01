import { ContextCodecs } from '../codec/contexts.js'
import * as EventNumber from '../protocol/event-numbers.js'

// The ctx guard, apart from fast-guards.ts: it is needed only by the ctx check, which connect()
// loads as a chunk of its own; in one module with the payload guards (which every app
// downloads) it would be downloaded up front with them. Same rule as those: a shortcut that
// implies the codec's `is`, never the definition (fast-guards.test.ts holds this).

type Json = Record<string, unknown>

const isUser = (u: unknown): boolean => u === null || typeof u === 'string' || typeof u === 'number'
const isOptionalBoolean = (u: unknown): boolean => u === undefined || typeof u === 'boolean'
/** Absent, or of JSON type `type`, or (`nullable`) `null`: a `t.partial` field, maybe `orNull`. */
const isOptional = (u: unknown, type: 'string' | 'number' | 'boolean', nullable = false): boolean =>
  u === undefined || typeof u === type || (nullable && u === null)
const isOptionalStrings = (u: unknown): boolean => u === undefined || (Array.isArray(u) && u.every((item) => typeof item === 'string'))

/**
 * A fast guard that implies `contextCodecOf(e).is(ctx)`, written out for every context codec
 * (votes, views and invites are four events in five; reviews, items and transfers most of the
 * rest) and for the names without one, whose codec takes any record. False means "ask the
 * codec", which also says why.
 */
export function looksLikeContext(e: number, ctx: Json): boolean {
  if (!isUser(ctx['user'])) return !(e in ContextCodecs) && !Array.isArray(ctx)
  switch (e) {
    case EventNumber.BotVote:
    case EventNumber.ServerVote:
      return Number.isSafeInteger(ctx['votes']) && isOptionalBoolean(ctx['test'])
    case EventNumber.BotView:
    case EventNumber.ServerView:
      return isOptionalBoolean(ctx['widget'])
    case EventNumber.BotInvite:
    case EventNumber.ServerInvite:
      return isOptionalBoolean(ctx['api'])
    case EventNumber.ReviewVote:
    case EventNumber.ReviewAdd:
    case EventNumber.ReviewEdit:
    case EventNumber.ReviewDelete:
      return (
        isOptional(ctx['id'], 'string') &&
        isOptional(ctx['star_rating'], 'number', true) &&
        isOptional(ctx['reply'], 'boolean', true) &&
        isOptional(ctx['review'], 'string', true) &&
        isOptional(ctx['upvotes'], 'number') &&
        isOptional(ctx['downvotes'], 'number') &&
        isOptional(ctx['upvote'], 'boolean')
      )
    case EventNumber.ResourceAdd:
    case EventNumber.ResourceDelete:
    case EventNumber.CommandAdd:
    case EventNumber.CommandDelete: {
      const id = ctx['id']
      return (typeof id === 'string' || isOptionalStrings(id)) && isOptionalStrings(ctx['ids']) && isOptionalStrings(ctx['names']) && isOptionalBoolean(ctx['nuke'])
    }
    case EventNumber.BotTransfer: {
      const owner = ctx['new_owner']
      return typeof owner === 'string' || typeof owner === 'number'
    }
    default:
      // Any record (a JSON list has no `user`: it went to the first line).
      return true
  }
}
