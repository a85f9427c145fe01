import type { Position } from '@fates-rx/core/protocol'
import { formatPosition } from '@fates-rx/core/protocol'

/**
 * Who is identifying: a bot or a server (guild). Defined here, not beside identify parsing,
 * so that stores depend on no protocol module.
 */
export type IdentityKind = 'bot' | 'server'

/** Events keyed by event ID, as the original stored and published them (`{"<eid>": event}`). */
export type EventsById = Readonly<Record<string, unknown>>

/** Receives live events published on a channel, in publish order. */
export type EventListener = (channel: string, events: EventsById) => void

/** One live event: its event ID and the event. */
export interface LiveEvent {
  /** Its event ID. */
  readonly eid: string
  /** The event, `m.eid` and `m.ts` filled in. */
  readonly event: unknown
}

/**
 * Receives live events published on a channel, in publish order, several in one call when they
 * were published together (a batch's consecutive events on the channel): no `{"<eid>": event}`
 * object is built per event, and a receiver can handle a batch at once.
 */
export type EventBatchListener = (channel: string, events: readonly LiveEvent[]) => void

/** Stops a subscription. */
export type Unsubscribe = () => Promise<void>

/**
 * Where the server keeps its state, and how events travel between instances. The server's
 * protocol logic talks only to this interface; the in-memory store is the default, and a
 * shared store (Redis, PostgreSQL) lets several instances serve one audience.
 *
 * Every method is async so that a networked store fits; a rejected promise means the store
 * failed (the server closes affected connections with 4500, never hangs them).
 */
export interface Store extends TokenLookup {
  /**
   * Adds `cost` to the counter `key` and resolves to its value afterwards. A counter that does
   * not exist (or has expired) is created with an expiry of `windowMs`; later increments do not
   * extend it.
   */
  countRequest(key: string, cost: number, windowMs: number): Promise<number>
  /**
   * Stores `event` under `eid` in `channel`'s history, then publishes it live, unless the
   * history already holds `eid`: the eid is the idempotency key, so a producer's retry stores
   * and delivers nothing. Resolves to `true` when stored, `false` for such a repeat. A
   * rejection means nothing was stored or delivered (or, as a {@link StoreOutcomeUnknown},
   * that the store could not tell: retrying with the same eids is then safe). `live: false`
   * only stores it (a relay keeping its origin's replay for its viewers' `send_all`).
   */
  publish(channel: string, eid: string, event: unknown, live?: boolean): Promise<boolean>
  /**
   * {@link publish} for several events at once, in order; resolves to one stored-or-repeat
   * flag per event. A plain rejection means none was stored; a store that splits a batch (Redis,
   * into bounded script calls) rejects with {@link StoreOutcomeUnknown} once part of it may be.
   * Optional: without it the server publishes one by one.
   */
  publishMany?(events: readonly EventToStore[]): Promise<boolean[]>
  /**
   * Every stored event of `channel`, keyed by event ID (order unspecified: the server orders
   * a replay by `m.ts`). At most the history's length for the server's own events, plus what
   * an original producer stored.
   */
  storedEvents(channel: string): Promise<EventsById>
  /**
   * The position of `channel`'s newest stored event in the store's current life (offset 0 when
   * it stored none yet), or `undefined` when the store has no record of a life for it (a
   * flushed Redis: any position a client holds is from another life). Present only on a store
   * that stamps every stored event's `m.pos` (see core's `parsePosition`): a store without it
   * keeps events as published, and a resume falls back to `m.ts`.
   */
  readonly headOf?: (channel: string) => Promise<Position | undefined>
  /** Resolves when the store answers (for `GET /healthz`); rejects otherwise. */
  ping?(): Promise<void>
  /**
   * Starts delivering `channel`'s live events to `listener`; resolves once delivery is active,
   * so nothing published after that is missed.
   */
  subscribe(channel: string, listener: EventListener): Promise<Unsubscribe>
  /**
   * {@link subscribe}, with the channel's live events handed over in runs instead of one object
   * per event: what a batch published at once holds for the channel comes in one call. Optional:
   * the server uses it where a store has it, {@link subscribe} otherwise.
   */
  subscribeBatches?(channel: string, listener: EventBatchListener): Promise<Unsubscribe>
  /**
   * Registers `listener` for interruptions of live delivery (a lost pub/sub connection): events
   * published meanwhile may never arrive, so the server closes its identified connections with
   * 4500 and clients reconnect (and can replay with `send_all`). Stores that cannot lose live
   * events need not implement it.
   */
  onInterrupted?(listener: (error: Error) => void): void
  /** Releases connections and timers. */
  close(): Promise<void>
}

/**
 * `event` with `m.pos` set to `position` (a copy; the event itself is not changed), replacing
 * whatever a producer put there: only the store knows where it stored the event. Anything
 * without an `m` object is returned as it is (only the server's own publish path stores events,
 * and it always fills `m`).
 */
export function stampPosition(event: unknown, position: Position): unknown {
  const m = (event as { m?: unknown } | null)?.m
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return event
  return { ...(event as object), m: { ...m, pos: formatPosition(position) } }
}

/** One event for {@link Store.publishMany}. */
export interface EventToStore {
  /** The channel: `bot-<id>`, `server-<id>` or `global`. */
  readonly channel: string
  /** The event ID, its key in the history. */
  readonly eid: string
  /** The event, `m.eid` and `m.ts` filled in. */
  readonly event: unknown
  /** `false`: stored in the history only, not published to live subscribers. @default true */
  readonly live?: boolean
}

/**
 * The store failed in a way that leaves unknown whether the events were stored (the
 * connection dropped, or the answer was lost). Retrying with the same eids is safe: a repeat
 * is recognized and not delivered twice.
 */
export class StoreOutcomeUnknown extends Error {
  override readonly name = 'StoreOutcomeUnknown'

  constructor(
    message: string,
    /** The eids of the events concerned, when known. */
    readonly eids: readonly string[] = [],
  ) {
    super(message)
  }
}

/** Where API tokens come from: the in-memory list, or the original's PostgreSQL tables. */
export interface TokenLookup {
  /**
   * The API token of the bot or server `id` (a canonical decimal string), or `undefined` when
   * there is none. The server compares it in constant time; a lookup never compares tokens.
   */
  tokenOf(kind: IdentityKind, id: string): Promise<string | undefined>
}

/** Tokens held in memory, from `--bot` / `--server` or the `bots` / `servers` options. */
export class MemoryTokens implements TokenLookup {
  readonly #tokens = new Map<string, string>()

  constructor(bots: readonly Credentials[] = [], servers: readonly Credentials[] = []) {
    for (const bot of bots) this.set('bot', bot.id, bot.token)
    for (const server of servers) this.set('server', server.id, server.token)
  }

  /** Adds or replaces an identity's token. */
  set(kind: IdentityKind, id: string, token: string): void {
    this.#tokens.set(`${kind}:${id}`, token)
  }

  async tokenOf(kind: IdentityKind, id: string): Promise<string | undefined> {
    return this.#tokens.get(`${kind}:${id}`)
  }
}

/** A bot's or server's credentials. */
export interface Credentials {
  /** The Discord snowflake, as a decimal string. */
  readonly id: string
  /** The API token. */
  readonly token: string
}

/** The ratelimit counter key the original used for an identity: `wsrl-<id>-bot` / `-server`. */
export const rateKey = (kind: IdentityKind, id: string): string => `wsrl-${id}-${kind}`

/** The channel an identity's events are published on: `bot-<id>` / `server-<id>`. */
export const channelOf = (kind: IdentityKind, id: string): string => `${kind}-${id}`

/** The channel every identified connection also receives. */
export const GlobalChannel = 'global'
