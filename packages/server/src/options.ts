import { isSnowflakeId, Protocol, SnowflakeRule } from '@fates-rx/core/protocol'
import { type DemoOptions, MaxDemoRate } from './demo.js'
import type { Logger } from './log.js'
import { resolveRelay, type RelayOptions } from './relay/options.js'
import type { ProtocolConfig } from './protocol/config.js'
import { configuredRules, type ConfiguredRules } from './protocol/connection-machine.js'
import type { Credentials, Store } from './stores/store.js'
import { MaxTimerMs } from './protocol/timers.js'

/** Options of `startServer`. Every number is checked; a bad one throws at the call. */
export interface ServerOptions {
  /** The address to listen on. @default '127.0.0.1' */
  readonly host?: string
  /** The port; `0` picks a free one. @default 8787 */
  readonly port?: number
  /**
   * Bots that may identify (in-memory store only). In relay mode, the viewer tokens of the
   * relayed bots. @default []
   */
  readonly bots?: readonly Credentials[]
  /**
   * Servers (guilds) that may identify (in-memory store only). In relay mode, the viewer
   * tokens of the relayed servers. @default []
   */
  readonly servers?: readonly Credentials[]
  /**
   * Relay mode: relay these targets from an upstream server instead of being their origin.
   * Viewers are then limited per connection (`rateLimit` and the costs apply to each
   * connection's own counter), never by the per-id counter. @default none: an origin
   */
  readonly relay?: RelayOptions
  /** The Bearer token `POST /publish` requires. @default a random 32-byte hex string */
  readonly adminToken?: string
  /**
   * Demo traffic to every configured bot and server (the demo bot `DEMO_BOT` when none is
   * configured): a rate in events per second, or options. @default false
   */
  readonly demo?: number | DemoOptions | false
  /** The highest ratelimit counter value allowed. @default 20 */
  readonly rateLimit?: number
  /** The ratelimit window, fixed at a counter's first request (milliseconds). @default 420000 */
  readonly rateWindowMs?: number
  /** What an identify costs. @default 2 */
  readonly identifyCost?: number
  /** What every later client message costs. @default 1 */
  readonly messageCost?: number
  /** Close with 4000 when no identify arrives within this time (milliseconds; 0 = never). @default 30000 */
  readonly identifyTimeoutMs?: number
  /** How often to ping each connection (milliseconds). @default 54000 */
  readonly pingIntervalMs?: number
  /** Drop a connection silent (no pong, no message) this long (milliseconds). @default 60000 */
  readonly pongTimeoutMs?: number
  /** Delay between the `send_all` replay and `done_prior` (milliseconds). @default 1000 */
  readonly donePriorDelayMs?: number
  /** The largest client message accepted; larger ones close with 1009. @default 4096 */
  readonly maxMessageBytes?: number
  /** Pause writing to a connection while its socket buffers this many bytes. @default 65536 */
  readonly highWaterBytes?: number
  /**
   * A connection with more events queued than this is closed with 4500. It must exceed twice
   * `history` (a `send_all` replay of a channel and global is queued at once).
   * @default 50000, plus twice what `history` exceeds its default by
   */
  readonly maxQueuedEvents?: number
  /**
   * A connection with more bytes waiting for it than this (events and payloads queued, plus
   * what its socket still buffers) reads too slowly: it is closed with 1008 and dropped a
   * second later, so that one slow reader cannot make the process hold unbounded memory,
   * whatever the size of its events. A `send_all` replay counts too: keep it above the
   * history's size in bytes. @default 33554432 (32 MiB)
   */
  readonly maxQueuedBytes?: number
  /**
   * The most websocket connections open at once from one remote address; an upgrade over it
   * is answered `429 Too Many Requests` (with `Retry-After`). 0: no limit. Behind a proxy all
   * viewers share its address: raise it there, or cap at the proxy. A relay serving a public
   * page should set it (say 32): anyone with its viewer token can open connections.
   * @default 0
   */
  readonly maxConnectionsPerAddress?: number
  /**
   * An HTTP or upgrade request whose headers are not complete after this long is answered
   * 408 and its connection closed (a slowloris defence; milliseconds). @default 10000
   */
  readonly headersTimeoutMs?: number
  /**
   * How many events each channel keeps for `send_all` replays, in memory and in Redis alike;
   * the first stored go first. A repeated eid is recognized while it is in the history.
   * @default 1000
   */
  readonly history?: number
  /**
   * With `redis`: also append every event to the original's stored blob (hash field `ws` of
   * the channel's key), for a fleet that still runs the original beside this server. That
   * blob is rewritten whole on each write (once per script call of up to 256 events) and never
   * trimmed, as the original did, so writes slow down as it grows: a migration-only mode.
   * @default false
   */
  readonly writeOriginalHistory?: boolean
  /**
   * Stamp every stored event with its position in its channel (`m.pos`, `"<epoch>:<offset>"`)
   * and honour an identify's `after`, so that a client resumes exactly after the last event it
   * got (README, "Exact recovery"). `false`: no `m.pos`, `after` ignored as the original ignores
   * it: every frame byte for byte the original's. Only for the server's own store (a `store`
   * passed in decides for itself). @default true
   */
  readonly positions?: boolean
  /**
   * Redis URL (`redis://[user:password@]host:port[/db]`): events, pub/sub and ratelimits in
   * Redis with the original's keys, shared by every instance using it. @default in memory
   */
  readonly redis?: string
  /**
   * PostgreSQL URL: tokens checked against the original's `bots(bot_id, api_token)` and
   * `servers(guild_id, api_token)` tables instead of `bots` / `servers`. @default in memory
   */
  readonly postgres?: string
  /**
   * Where tokens, ratelimits and events live. The caller keeps ownership: `close()` does not
   * close a store passed here. @default a `MemoryStore` with `bots` and `servers`
   */
  readonly store?: Store
  /** Where one-line log entries go (never with a token). @default no logging */
  readonly logger?: Logger
}

/** The defaults of {@link ServerOptions}, in one table. */
export const ServerDefaults = Object.freeze({
  host: '127.0.0.1',
  port: 8787,
  rateLimit: Protocol.rateLimit,
  rateWindowMs: Protocol.rateWindowMs,
  identifyCost: Protocol.identifyCost,
  messageCost: Protocol.messageCost,
  identifyTimeoutMs: 30_000,
  pingIntervalMs: Protocol.pingIntervalMs,
  pongTimeoutMs: Protocol.pongTimeoutMs,
  donePriorDelayMs: Protocol.donePriorDelayMs,
  maxMessageBytes: Protocol.maxMessageBytes,
  highWaterBytes: 64 * 1024,
  maxQueuedEvents: 50_000,
  maxQueuedBytes: 32 * 1024 * 1024,
  maxConnectionsPerAddress: 0,
  headersTimeoutMs: 10_000,
  history: 1000,
} as const satisfies Partial<Record<keyof ServerOptions, string | number>>)

type NumberOption = {
  [K in keyof typeof ServerDefaults]: (typeof ServerDefaults)[K] extends number ? K : never
}[keyof typeof ServerDefaults]

/** The smallest value each numeric option accepts (all must be whole numbers). */
const Minimum: Readonly<Record<NumberOption, number>> = Object.freeze({
  port: 0,
  rateLimit: 0,
  rateWindowMs: 1,
  identifyCost: 0,
  messageCost: 0,
  identifyTimeoutMs: 0,
  pingIntervalMs: 1,
  pongTimeoutMs: 1,
  donePriorDelayMs: 0,
  maxMessageBytes: 1,
  highWaterBytes: 1,
  maxQueuedEvents: 1,
  maxQueuedBytes: 1,
  maxConnectionsPerAddress: 0,
  headersTimeoutMs: 1,
  history: 1,
})

/** The options that are a timer's wait: past {@link MaxTimerMs}, Node would run it at once. */
const TimerOptions = ['identifyTimeoutMs', 'pingIntervalMs', 'pongTimeoutMs', 'donePriorDelayMs', 'headersTimeoutMs'] as const satisfies readonly NumberOption[]

/** Options with every default applied. */
export type ResolvedOptions = Required<Pick<ServerOptions, NumberOption | 'host'>>

/** Applies defaults and checks every option; throws a `TypeError`/`RangeError` naming it. */
export function resolveOptions(options: ServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('startServer options must be an object')
  const resolved: Record<string, unknown> = { host: options.host ?? ServerDefaults.host }
  if (typeof resolved.host !== 'string' || resolved.host === '') throw new TypeError('host must be a non-empty string')
  for (const key of Object.keys(Minimum) as NumberOption[]) {
    const value = options[key] ?? ServerDefaults[key]
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < Minimum[key]) {
      throw new RangeError(`${key} must be a whole number ≥ ${Minimum[key]}, got ${String(value)}`)
    }
    resolved[key] = value
  }
  if ((resolved.port as number) > 65535) throw new RangeError(`port must be ≤ 65535, got ${String(resolved.port)}`)
  for (const key of TimerOptions) {
    if ((resolved[key] as number) > MaxTimerMs) throw new RangeError(`${key} must be ≤ ${MaxTimerMs} (a timer's longest wait), got ${String(resolved[key])}`)
  }
  // A `send_all` replay queues its channel's history and global's at once, before a byte of it is
  // written: a limit below that closed every such client at its first live event behind the
  // replay. A raised history raises the default with it (the room left for live events kept).
  const history = resolved.history as number
  if (options.maxQueuedEvents === undefined) {
    resolved.maxQueuedEvents = ServerDefaults.maxQueuedEvents + 2 * Math.max(0, history - ServerDefaults.history)
  } else if ((resolved.maxQueuedEvents as number) <= 2 * history) {
    throw new RangeError(`maxQueuedEvents must exceed twice the history (${2 * history}): a send_all replay queues that many events at once, got ${String(resolved.maxQueuedEvents)}`)
  }
  for (const key of ['bots', 'servers'] as const) {
    const list = options[key]
    if (list === undefined) continue
    if (!Array.isArray(list)) throw new TypeError(`${key} must be an array of { id, token }`)
    for (const [index, entry] of list.entries()) {
      const { id, token } = (entry ?? {}) as Partial<Credentials>
      if (!isSnowflakeId(id)) {
        throw new TypeError(`${key}[${index}].id must be a snowflake as a string: ${SnowflakeRule}`)
      }
      if (typeof token !== 'string' || token === '') throw new TypeError(`${key}[${index}].token must be a non-empty string`)
    }
    if (options.store !== undefined && list.length > 0) {
      throw new TypeError(`${key} configure the in-memory tokens; with a custom store, its token lookup decides`)
    }
    if (options.postgres !== undefined && list.length > 0) {
      throw new TypeError(`${key} configure the in-memory tokens; with postgres, the bots and servers tables decide`)
    }
  }
  if (options.writeOriginalHistory !== undefined && typeof options.writeOriginalHistory !== 'boolean') {
    throw new TypeError('writeOriginalHistory must be a boolean')
  }
  if (options.writeOriginalHistory === true && options.redis === undefined) {
    throw new TypeError('writeOriginalHistory writes the original\'s blob in Redis: it needs redis')
  }
  if (options.adminToken !== undefined && (typeof options.adminToken !== 'string' || options.adminToken.length < 8)) {
    throw new TypeError('adminToken must be a string of at least 8 characters')
  }
  // A header carries bytes, read as Latin-1, with surrounding whitespace stripped: a token with
  // a space, a control or a non-ASCII character could never be presented (every request 401).
  if (options.adminToken !== undefined && !/^[\x21-\x7e]+$/.test(options.adminToken)) {
    throw new TypeError('adminToken must be visible ASCII characters (no spaces, controls or non-ASCII): no request could carry it otherwise')
  }
  for (const key of ['redis', 'postgres'] as const) {
    const url = options[key]
    if (url === undefined) continue
    if (options.store !== undefined) throw new TypeError(`${key} and store exclude each other`)
    const scheme = key === 'redis' ? /^rediss?:$/ : /^postgres(?:ql)?:$/
    let parsed: URL | undefined
    try {
      parsed = new URL(url)
    } catch {
      parsed = undefined
    }
    if (typeof url !== 'string' || parsed === undefined || !scheme.test(parsed.protocol)) {
      // The URL may hold a password: name the option, not its value.
      throw new TypeError(`${key} must be a ${key === 'redis' ? 'redis://' : 'postgres://'} URL`)
    }
  }
  if (options.relay !== undefined) {
    if (options.demo !== undefined && options.demo !== false) throw new TypeError('demo and relay exclude each other: a relay publishes what its upstream sends')
    const inMemory = options.postgres === undefined && options.store === undefined
    resolveRelay(options.relay, inMemory ? { viewers: { bots: options.bots ?? [], servers: options.servers ?? [] } } : {})
  }
  const { demo } = options
  const rate = typeof demo === 'object' && demo !== null ? demo.rate : demo
  if (demo !== undefined && demo !== false && rate !== undefined && !(typeof rate === 'number' && Number.isFinite(rate) && rate > 0 && rate <= MaxDemoRate)) {
    throw new RangeError(`demo must be false, a rate in events per second > 0 and ≤ ${MaxDemoRate}, or { rate }, got ${String(rate)}`)
  }
  return resolved as ResolvedOptions
}

/**
 * The protocol logic's rules from resolved options: the ratelimit, the timeouts and the
 * outbox's bounds, as `startServer` gives them to `makeServer` (a test that builds a server
 * from its parts gives the same).
 */
export function protocolRules(config: ResolvedOptions): ConfiguredRules & Pick<ProtocolConfig, 'outbox'> {
  return {
    ...configuredRules(config),
    outbox: {
      highWaterBytes: config.highWaterBytes,
      maxFrameChars: 1024 * 1024,
      maxQueuedEvents: config.maxQueuedEvents,
      maxQueuedBytes: config.maxQueuedBytes,
    },
  }
}
