import * as t from 'io-ts'
import * as EventNumber from '../protocol/event-numbers.js'
import { Integer, Snowflake } from './codecs.js'

// Context shapes the original's producers sent: CONTEXTS.md beside this file is the audit (each
// producer, each field, the types it can send, with its source). Never stricter than that
// table: a nullable column or optional model field means `null` is accepted, a snowflake the
// producer held as an int arrives as a JSON number. Every key but the ones a consumer cannot do
// without is optional: producers changed often and omitted fields, and a context that is merely
// sparser than usual must still narrow.
//
// Each type is an interface extending its codec's type, so that hovers and docs show a name
// and a line per field; TypeScript checks each field against the codec. The index signature
// is what the codec lets through (t.type keeps unnamed keys), and keeps a narrowed event
// assignable to ReceivedEvent, whose ctx is a record.

// (Equivalent mutants, left counted: the names given to the intersections VoteContext,
// ViewContext, InviteContext, ReviewContext and ItemContext → '': an intersection's name shows
// in no explanation, since its members fail, not it. The names that do show are pinned in codecs.test.ts.)

/** The acting user: a snowflake, or `null` for system actions. */
const User = t.union([Snowflake, t.null], 'User')

/** `c` or `null`: what a nullable column or an optional model field sends. */
const orNull = <C extends t.Mixed>(c: C) => t.union([c, t.null])

/** A vote's context: who voted and the bot's or server's vote count after it. */
export const VoteContext = t.intersection(
  [t.type({ user: User, votes: Integer }), t.partial({ test: t.boolean })],
  'VoteContext',
)
/** A vote's context. */
export interface VoteContext extends t.TypeOf<typeof VoteContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /** Who voted: a snowflake (usually a string), or `null`. */
  user: Snowflake | null
  /** The bot's or server's vote count after this vote. */
  votes: number
  /** `true` for a test vote sent from the site. */
  test?: boolean
}

/** A view's context: `widget` is true when the view came from an embedded widget. */
export const ViewContext = t.intersection(
  [t.type({ user: User }), t.partial({ widget: t.boolean })],
  'ViewContext',
)
/** A view's context. */
export interface ViewContext extends t.TypeOf<typeof ViewContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /** Who viewed: a snowflake (the original sent a JSON number, a string before mid-2021), or `null` for an anonymous view. */
  user: Snowflake | null
  /** `true` when the view came from an embedded widget. */
  widget?: boolean
}

/** An invite's context: `api` is true when the invite was requested through the API. */
export const InviteContext = t.intersection(
  [t.type({ user: User }), t.partial({ api: t.boolean })],
  'InviteContext',
)
/** An invite's context. */
export interface InviteContext extends t.TypeOf<typeof InviteContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /**
   * Who asked for the invite: a snowflake, or `null`. The original sent `"0"` for a visitor
   * who was not logged in and `"None"` for an invite asked through its API.
   */
  user: Snowflake | null
  /** `true` when the invite was requested through the API. */
  api?: boolean
}

/**
 * A review event's context. `review` holds end-user text: render it as text, never as HTML.
 * A review add also sends `root` (the reviewed review's ID when a reply, else `null`), passed
 * through unnamed.
 */
export const ReviewContext = t.intersection(
  [
    t.type({ user: User }),
    t.partial({
      id: t.string,
      star_rating: orNull(t.number),
      reply: orNull(t.boolean),
      review: orNull(t.string),
      upvotes: t.number,
      downvotes: t.number,
      upvote: t.boolean,
    }),
  ],
  'ReviewContext',
)
/** A review event's context. */
export interface ReviewContext extends t.TypeOf<typeof ReviewContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /** Who acted: a snowflake, or `null`. */
  user: Snowflake | null
  /** The review's ID (a UUID). */
  id?: string
  /** The review's rating, fractional (`4.5`); `null` when the stored rating is (a review vote reads a nullable column). */
  star_rating?: number | null
  /** `true` when the review is a reply to another; `null` when the producer stored or was sent none. */
  reply?: boolean | null
  /** The review's text: end-user text, render it as text, never as HTML; `null` when the stored text is. */
  review?: string | null
  /** Upvotes after this event. */
  upvotes?: number
  /** Downvotes after this event. */
  downvotes?: number
  /** For a review vote: `true` an upvote, `false` a downvote. */
  upvote?: boolean
}

/** A command or resource added or deleted. `names` are end-user text. */
export const ItemContext = t.intersection(
  [
    t.type({ user: User }),
    t.partial({
      id: t.union([t.string, t.array(t.string)]),
      ids: t.array(t.string),
      names: t.array(t.string),
      nuke: t.boolean,
    }),
  ],
  'ItemContext',
)
/** A command or resource added or deleted. */
export interface ItemContext extends t.TypeOf<typeof ItemContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /** Who acted: usually `null` (a system action). */
  user: Snowflake | null
  /**
   * The added items' IDs (UUIDs), or one changed item's ID as producers before September 2021
   * sent it (stored events of that time are still replayed).
   */
  id?: string | string[]
  /** The items' IDs, when several changed. */
  ids?: string[]
  /** The items' names: end-user text. */
  names?: string[]
  /** `true` when every item was deleted at once. */
  nuke?: boolean
}

/** A bot transferred to a new owner. */
export const TransferContext = t.type({ user: User, new_owner: Snowflake }, 'TransferContext')
/** A bot transferred to a new owner. */
export interface TransferContext extends t.TypeOf<typeof TransferContext> {
  /** Keys the codec does not name, as the producer sent them: not checked, so `unknown`. */
  [key: string]: unknown
  /** Who made the transfer: a snowflake (the original's API sent a JSON number), or `null`. */
  user: Snowflake | null
  /** The new owner: a snowflake (a JSON number from the original's API, a string from its older admin commands). */
  new_owner: Snowflake
}

/** Any other event: a record, with `user` when the producer sent one. */
export const OtherContext = t.UnknownRecord
/** Any other event's context: a record of unknown values, `user` among them when sent. */
export type OtherContext = { [key: string]: unknown }

/**
 * Which context codec each known event number carries. Numbers not listed here (and unknown
 * numbers) have {@link OtherContext}.
 */
export const ContextCodecs = /* @__PURE__ */ Object.freeze({
  [EventNumber.BotVote]: VoteContext,
  [EventNumber.ServerVote]: VoteContext,
  [EventNumber.BotView]: ViewContext,
  [EventNumber.ServerView]: ViewContext,
  [EventNumber.BotInvite]: InviteContext,
  [EventNumber.ServerInvite]: InviteContext,
  [EventNumber.ReviewVote]: ReviewContext,
  [EventNumber.ReviewAdd]: ReviewContext,
  [EventNumber.ReviewEdit]: ReviewContext,
  [EventNumber.ReviewDelete]: ReviewContext,
  [EventNumber.ResourceAdd]: ItemContext,
  [EventNumber.ResourceDelete]: ItemContext,
  [EventNumber.CommandAdd]: ItemContext,
  [EventNumber.CommandDelete]: ItemContext,
  [EventNumber.BotTransfer]: TransferContext,
} as const)

/** The type of {@link ContextCodecs}: event number → context codec. */
export type ContextCodecTable = typeof ContextCodecs

/** The named context type of a context codec (so that hovers show `VoteContext`, not its structure). */
export type ContextType<C> = C extends typeof VoteContext
  ? VoteContext
  : C extends typeof ViewContext
    ? ViewContext
    : C extends typeof InviteContext
      ? InviteContext
      : C extends typeof ReviewContext
        ? ReviewContext
        : C extends typeof ItemContext
          ? ItemContext
          : C extends typeof TransferContext
            ? TransferContext
            : OtherContext

/** The context type of event number `E`. */
export type ContextOf<E extends number> = E extends keyof ContextCodecTable
  ? ContextType<ContextCodecTable[E]>
  : OtherContext

/** The codec of event number `e`'s context. */
export function contextCodecOf(e: number): t.Mixed {
  return (ContextCodecs as Readonly<Record<number, t.Mixed | undefined>>)[e] ?? OtherContext
}
