import type { IdentityKind } from '../identify/parse.js'

/** Events keyed by event ID, as the original stored and published them (`{"<eid>": event}`). */
export type EventsById = Readonly<Record<string, unknown>>

/** Receives live events published on a channel, in publish order. */
export type EventListener = (channel: string, events: EventsById) => void

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
  /** Stores `event` under `eid` in `channel`'s stored events, then publishes it live. */
  publish(channel: string, eid: string, event: unknown): Promise<void>
  /** Every stored event of `channel`, keyed by event ID (order unspecified). */
  storedEvents(channel: string): Promise<EventsById>
  /**
   * Starts delivering `channel`'s live events to `listener`; resolves once delivery is active,
   * so nothing published after that is missed.
   */
  subscribe(channel: string, listener: EventListener): Promise<Unsubscribe>
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
