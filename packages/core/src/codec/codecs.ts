import * as t from 'io-ts'
import { isSnowflakeId, SnowflakeRule } from './rules.js'

// The rules that need no codec (what an ID is, the identify's text) live in rules.ts, so that
// what every app downloads up front carries no io-ts; they are re-exported here, where the
// protocol's shapes are read.
export { identifyText, isSnowflakeId, MaxSnowflakeId, SnowflakeRule } from './rules.js'

/**
 * An integer the original's Go server could hold (an event number, a count, a budget): a safe
 * integer, so `1e300`, an integer to JavaScript, is not one. Typed as a plain `number` (io-ts's
 * `t.Int` brands its type, which would force users to cast every literal they build in tests
 * and fixtures). One rule for the client's decoding and the server's `/publish`.
 */
// (Equivalent mutants, left counted: `typeof u === 'number'` → `true` on either line below, as
// Number.isSafeInteger is false for every non-number. And the names given to EventMeta,
// ServerPayload and IdentifyPayload → '': an intersection's or a union's name shows in no
// explanation, since its members fail, not it. The names that do show are pinned in codecs.test.ts.)
export const Integer = new t.Type<number, number, unknown>(
  'Integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u),
  (u, c) => (typeof u === 'number' && Number.isSafeInteger(u) ? t.success(u) : t.failure(u, c)),
  t.identity,
)

/**
 * A Discord snowflake. On the wire it is a decimal string; some producers sent a JSON number,
 * which is accepted here but may have been rounded by `JSON.parse` (see
 * {@link unsafeSnowflakePaths}).
 */
export const Snowflake = t.union([t.string, t.number], 'Snowflake')
/** A Discord snowflake: a decimal string, or a (possibly rounded) number. */
export type Snowflake = t.TypeOf<typeof Snowflake>

/** The codec of {@link isSnowflakeId}: a bot's or server's ID as identify and channels carry it. */
export const SnowflakeId = /* @__PURE__ */ new t.Type<string, string, unknown>(
  'SnowflakeId',
  isSnowflakeId,
  (u, c) => (isSnowflakeId(u) ? t.success(u) : t.failure(u, c, SnowflakeRule)),
  t.identity,
)

/**
 * A control payload (`control: true`). Unknown codes and extra keys pass through: the code is
 * any string, and `t.type` keeps keys it does not name.
 */
export const ControlPayload = t.intersection(
  [
    t.type({ code: t.string, control: t.literal(true) }),
    t.partial({
      detail: t.union([t.string, t.null]),
      ts: t.number,
      requests_remaining: Integer,
      chan: t.string,
    }),
  ],
  'ControlPayload',
)
/**
 * A control payload: `identity`, `ready`, `done_prior`, an error, or a code not known yet.
 * Keys the protocol does not name pass through as they came.
 */
export interface ControlPayload extends t.TypeOf<typeof ControlPayload> {
  /**
   * The payload's name: `identity`, `ready`, `done_prior`, `invalid_payload`, `invalid_auth`,
   * `ratelimited` (see `ControlCode`), or a code not known yet, passed through.
   */
  code: string
  /** Always `true`: what tells a control payload from an event. */
  control: true
  /** Text for a person, from the server (the client redacts its token from it). */
  detail?: string | null
  /** When the server sent it, in Unix seconds (a float type holding a whole number). */
  ts?: number
  /** Requests left in the ratelimit window: `-1` before identification, negative once exceeded. */
  requests_remaining?: number
  /** The channel, sent by a later server version. */
  chan?: string
}

/**
 * An event's metadata. Only `e` is required: real producers omitted the rest at times.
 */
export const EventMeta = t.intersection(
  [
    t.type({ e: Integer }),
    t.partial({
      eid: t.string,
      ts: t.number,
      t: t.union([Integer, t.array(Integer)]),
      id: t.union([Snowflake, t.null]),
      wt: Integer,
    }),
  ],
  'EventMeta',
)
/** An event's metadata: name `e`, and usually `eid`, `ts` and type `t`. */
export interface EventMeta extends t.TypeOf<typeof EventMeta> {
  /** The event's name: a number of `EventName` (`0` a bot vote…), or one not known yet. */
  e: number
  /** The event's ID (a UUID): a replayed event keeps it, so dedupe on it. */
  eid?: string
  /** When it happened, in Unix seconds, fractional (`1700000000.001`). Order by it, not by arrival. */
  ts?: number
  /** The event's type, or several; `-1` when none. */
  t?: number | number[]
  /** The target bot or user, a snowflake; `null` or absent when none. */
  id?: Snowflake | null
  /** The webhook type (webhook events only). */
  wt?: number
  /**
   * Where the project's server stored it in its channel (`"<epoch>:<offset>"`, see
   * `parsePosition`): what a client sends back to resume exactly after it. The original server
   * sends none. Not checked by the codec: `parsePosition` is its one reader.
   */
  pos?: string
}

/** An event: metadata `m` and a context `ctx` whose shape depends on `m.e`. */
export const FatesEvent = t.type({ m: EventMeta, ctx: t.UnknownRecord }, 'FatesEvent')
/** An event: metadata `m` and a context `ctx` whose shape depends on `m.e`. */
export interface FatesEvent extends t.TypeOf<typeof FatesEvent> {
  /** The metadata: name, ID, time and type. */
  m: EventMeta
  /**
   * The context, whose shape depends on `m.e` (`ContextOf<E>`; `ofEvent` and `isEvent` narrow
   * it). Strings in it come from end users: treat them as untrusted text.
   */
  ctx: { [key: string]: unknown }
}

/** The original server's wrapping of an event: `{code:"event", dat, chan, control:false}`. */
export const WrappedEvent = t.intersection(
  [
    t.type({ code: t.literal('event'), dat: FatesEvent }),
    t.partial({ chan: t.string, control: t.literal(false), detail: t.union([t.string, t.null]) }),
  ],
  'WrappedEvent',
)
/** The original server's wrapping of an event. */
export interface WrappedEvent extends t.TypeOf<typeof WrappedEvent> {
  /** Always `"event"`. */
  code: 'event'
  /** The event itself. */
  dat: FatesEvent
  /** The channel: `bot-<id>`, `server-<id>` or `global`. */
  chan?: string
  /** Always `false` when present. */
  control?: false
  /** Always `null` when present. */
  detail?: string | null
}

// The client itself uses neither of the next two: marked pure so that a bundler drops them from
// an app that does not import them (io-ts's constructors are not known to be free of effects).

/** Anything the server sends: a control payload, a wrapped event or a bare event. */
export const ServerPayload = /* @__PURE__ */ t.union([ControlPayload, WrappedEvent, FatesEvent], 'ServerPayload')
/** Anything the server sends. */
export type ServerPayload = ControlPayload | WrappedEvent | FatesEvent

/** What the client sends after `identity`. */
export const IdentifyPayload = /* @__PURE__ */ t.intersection(
  [
    /* @__PURE__ */ t.type({ id: t.string, token: t.string }),
    /* @__PURE__ */ t.partial({ bot: t.boolean, send_all: t.boolean, send_none: t.boolean }),
  ],
  'IdentifyPayload',
)
/** What the client sends after `identity`. */
export interface IdentifyPayload extends t.TypeOf<typeof IdentifyPayload> {
  /** The bot's or server's (guild's) ID: a snowflake as a decimal string. */
  id: string
  /** The API token of that bot or server. Sent only here, never in a URL. */
  token: string
  /** `true`: a bot; `false` or absent: a server (guild). */
  bot?: boolean
  /** Replay every stored event first, then `done_prior`. */
  send_all?: boolean
  /** With `send_all`: after the replay, send no live events. */
  send_none?: boolean
}


/**
 * An event as the client delivers it: the event itself (the `dat` of a wrapped event, or the
 * bare event) with the channel beside it when the server named one.
 */
export interface ReceivedEvent extends FatesEvent {
  /** The channel the server delivered it on: `bot-<id>`, `server-<id>` or `global`. */
  readonly chan?: string
  /** `true` when it was replayed by `send_all` (between `ready` and `done_prior`). */
  readonly prior?: boolean
  /** `true` when it was published while the client was disconnected and replayed to fill that gap (`resume`). */
  readonly resumed?: boolean
}
