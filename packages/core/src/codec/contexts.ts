import * as t from 'io-ts'
import { EventName } from '../protocol/events.js'
import { Integer, Snowflake } from './codecs.js'

// Context shapes seen from the original producers (PROTOCOL.md section 4). Every key but the
// ones a consumer cannot do without is optional: producers changed often and omitted fields,
// and a context that is merely sparser than usual must still narrow.

/** The acting user: a snowflake, or `null` for system actions. */
const User = t.union([Snowflake, t.null], 'User')

/** A vote's context: who voted and the bot's or server's vote count after it. */
export const VoteContext = t.intersection(
  [t.type({ user: User, votes: Integer }), t.partial({ test: t.boolean })],
  'VoteContext',
)
/** A vote's context. */
export type VoteContext = t.TypeOf<typeof VoteContext>

/** A view's context: `widget` is true when the view came from an embedded widget. */
export const ViewContext = t.intersection(
  [t.type({ user: User }), t.partial({ widget: t.boolean })],
  'ViewContext',
)
/** A view's context. */
export type ViewContext = t.TypeOf<typeof ViewContext>

/** An invite's context: `api` is true when the invite was requested through the API. */
export const InviteContext = t.intersection(
  [t.type({ user: User }), t.partial({ api: t.boolean })],
  'InviteContext',
)
/** An invite's context. */
export type InviteContext = t.TypeOf<typeof InviteContext>

/** A review event's context. `review` holds end-user text: render it as text, never as HTML. */
export const ReviewContext = t.intersection(
  [
    t.type({ user: User }),
    t.partial({
      id: t.string,
      star_rating: t.number,
      reply: t.boolean,
      review: t.string,
      upvotes: t.number,
      downvotes: t.number,
      upvote: t.boolean,
    }),
  ],
  'ReviewContext',
)
/** A review event's context. */
export type ReviewContext = t.TypeOf<typeof ReviewContext>

/** A command or resource added or deleted. `names` are end-user text. */
export const ItemContext = t.intersection(
  [
    t.type({ user: User }),
    t.partial({
      id: t.string,
      ids: t.array(t.string),
      names: t.array(t.string),
      nuke: t.boolean,
    }),
  ],
  'ItemContext',
)
/** A command or resource added or deleted. */
export type ItemContext = t.TypeOf<typeof ItemContext>

/** A bot transferred to a new owner. */
export const TransferContext = t.type({ user: User, new_owner: Snowflake }, 'TransferContext')
/** A bot transferred to a new owner. */
export type TransferContext = t.TypeOf<typeof TransferContext>

/** Any other event: a record, with `user` when the producer sent one. */
export const OtherContext = t.UnknownRecord
/** Any other event's context. */
export type OtherContext = t.TypeOf<typeof OtherContext>

/**
 * Which context codec each known event number carries. Numbers not listed here (and unknown
 * numbers) have {@link OtherContext}.
 */
export const ContextCodecs = /* @__PURE__ */ Object.freeze({
  [EventName.BotVote]: VoteContext,
  [EventName.ServerVote]: VoteContext,
  [EventName.BotView]: ViewContext,
  [EventName.ServerView]: ViewContext,
  [EventName.BotInvite]: InviteContext,
  [EventName.ServerInvite]: InviteContext,
  [EventName.ReviewVote]: ReviewContext,
  [EventName.ReviewAdd]: ReviewContext,
  [EventName.ReviewEdit]: ReviewContext,
  [EventName.ReviewDelete]: ReviewContext,
  [EventName.ResourceAdd]: ItemContext,
  [EventName.ResourceDelete]: ItemContext,
  [EventName.CommandAdd]: ItemContext,
  [EventName.CommandDelete]: ItemContext,
  [EventName.BotTransfer]: TransferContext,
} as const)

/** The type of {@link ContextCodecs}: event number → context codec. */
export type ContextCodecTable = typeof ContextCodecs

/** The context type of event number `E`. */
export type ContextOf<E extends number> = E extends keyof ContextCodecTable
  ? t.TypeOf<ContextCodecTable[E]>
  : OtherContext

/** The codec of event number `e`'s context. */
export function contextCodecOf(e: number): t.Mixed {
  return (ContextCodecs as Readonly<Record<number, t.Mixed | undefined>>)[e] ?? OtherContext
}
