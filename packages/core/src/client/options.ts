import type { WebSocketConstructor } from '../socket/index.js'
import { identifyText, isSnowflakeId, SnowflakeRule } from '../codec/rules.js'
import { Protocol } from '../protocol/limits.js'
import { AfterLimits } from '../codec/position.js'
import type { SchedulerLike } from 'rxjs'
import { type BackoffConfig, BackoffDefaults } from './policies/backoff.js'
import { utf8Length } from './connection/metrics.js'
import type { PersistStore } from './persist/persist-support.js'
import type { TabsEnvironment, WorkerSharing } from './tabs/tab-support.js'

/** A value, or a function read at each connection attempt (for rotating credentials). */
export type PerAttempt<T> = T | (() => T)

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The websocket address (`ws:` or `wss:`), e.g. `wss://api.fateslist.xyz/api/dragon/ws/`. Never put the token in it. */
  readonly url: PerAttempt<string>
  /** The bot's or server's (guild's) ID: a Discord snowflake as a decimal string. */
  readonly id: PerAttempt<string>
  /** The API token of that bot or server. It is sent only inside the identify message. */
  readonly token: PerAttempt<string>
  /**
   * `true` for a bot, `false` for a server (guild).
   * @default true
   */
  readonly bot?: boolean
  /**
   * After any reconnect (a drop, a timeout, a server restart), identify with `send_all` and
   * pass on, of the replayed events, every one stamped at or after the newest one delivered
   * before the gap (`m.ts` ≥ the mark's), in `m.ts` order, each marked `resumed: true`. A tie
   * is never judged by eid order (eids are random): the mark remembers up to 64 eids delivered
   * at its timestamp and passes on every other tie, and past that the eid dedupe drops those
   * already delivered, so `dedupeCapacity` bounds how many events sharing the mark's timestamp
   * a gap can hold without one arriving twice. No event published while the client was
   * disconnected is lost, none arrives twice. Nothing from before the first connection arrives
   * unless `sendAll` asks for it (with `sendAll`, a replay cut short is completed).
   *
   * A replay comes in any order, so neither it nor its mark counts before its `done_prior`: a
   * drop before then drops what it had brought, undelivered, and the next resume starts where
   * the gap began and brings it again, in order. (A replay cut by `maxReplayHeld` or
   * `replayTimeoutMs`, or `orderReplay: false`, delivers before it ends; its mark still waits
   * for `done_prior`, so a drop before then brings those events again, which the eid dedupe
   * drops within `dedupeCapacity`, and a page reloaded before then, with `persist`, gets them
   * again.)
   *
   * The mark starts at the first `ready` payload's `ts` (the server's clock, the one that
   * stamps events published without an `m.ts`; the client's clock only if `ready` has none),
   * and rises with every event delivered after it (not with the history), never past the
   * client's clock read as the server's plus `Timestamps.maxAheadSeconds` (60 s): an event
   * stamped `1e300` cannot hide later ones. So it assumes that producers which set `m.ts`
   * themselves keep clocks near the server's: an event stamped earlier than the newest one
   * delivered before the gap is taken for one already seen. And `ready`'s `ts` is whole
   * seconds: if the first gap comes before any event is delivered, events from up to a second
   * before the first connection can arrive, marked `resumed`. The `live` status after a gap
   * says whether it is known to be filled (`gap`).
   * @default true
   */
  readonly resume?: boolean
  /**
   * Share one connection between all tabs (and windows) of this origin that connect with the
   * same url, kind (`bot`), id, token, `sendAll`, `sendNone` and `resume`: one tab leads (holds
   * the socket, identifies once), the others follow and receive the same streams over a
   * `BroadcastChannel`; each tab deduplicates on its own. When the leader closes, crashes or
   * unsubscribes, a follower takes over at once (a Web Lock passes to it), identifies and fills
   * the gap as a reconnect does (with `resume`). A follower that closes or reloads costs nothing.
   * The token is never posted between tabs nor part of the channel's name (a SHA-256 digest is).
   *
   * Where Web Locks, `BroadcastChannel` or `crypto.subtle` are missing (Node, old browsers, a
   * page not served over https or from localhost), the client is simply not shared, and
   * `status$`'s detail says why. `status$` shows each tab's part in `tabs`. A
   * {@link TabsEnvironment} instead of `true` supplies them (tests, other runtimes).
   *
   * A {@link WorkerSharing} (`{ worker }`) puts the connection in a SharedWorker that the app
   * serves (its script calls `startHub()` from `@fates-rx/core/worker`): every tab is one of
   * its ports, a tab that reloads or closes while another tab of the target is open costs
   * nothing, and the socket closes when the last port goes. `status$`'s `tabs.role` is then
   * `worker`. Without a SharedWorker, the tabs elect a leader as with `true`.
   * @default false
   */
  readonly shareAcrossTabs?: boolean | TabsEnvironment | WorkerSharing
  /**
   * Keep, per target, what lets a page's next visit pick up where this one stopped: the newest
   * event delivered (so that the first connection after a reload or a browser restart fills
   * the gap since it, once, in order, `resumed: true`, within the server's history) and the
   * identify ledger (the ratelimit window's start and the requests spent, corrected by
   * `ready.requests_remaining`), so that a page reloaded again and again never sends an
   * identify the window cannot cover: it waits, and `status$` says until when.
   *
   * `true` uses `localStorage` (a browser; its writes are synchronous, so an identify is on
   * record before it is sent); a {@link PersistStore} (any `getItem`/`setItem`) elsewhere.
   * Where there is none (`true` in Node, storage blocked), the client is simply not persisted,
   * and every status's detail says why.
   * The key is `fates-rx:1:` and the SHA-256 digest `shareAcrossTabs` names its channel with;
   * the record holds a timestamp, an event ID and counters, never the token. Limits: it cannot
   * see what other clients of the same bot spend (a 4012 is still handled), and tabs that do
   * not share a connection race on the record. A page reloaded while a cut replay waits for
   * its `done_prior` gets that replay's events again (see `resume`). A new page's eid dedupe
   * starts empty, so where
   * the `m.ts` rule decides (the original server, or an inexact `resume`), a burst of more than
   * 64 events sharing the mark's timestamp (`MaxTiedEids`) can repeat the ones past 64.
   * @default false
   */
  readonly persist?: boolean | PersistStore
  /**
   * Ask the server to replay all stored events first (they arrive with `prior: true`).
   * @default false
   */
  readonly sendAll?: boolean
  /**
   * With `sendAll`: no live events after the replay. Without `sendAll` it would receive no
   * events at all, so that combination is rejected.
   * @default false
   */
  readonly sendNone?: boolean
  /**
   * Check each delivered event's `ctx` against its name's shape (the context codecs) and put a
   * `ctx-mismatch` diagnostic on `diagnostic$` for each one that does not fit: the events that
   * `ofEvent` and `isEvent` leave out, so that none vanishes unseen. The event is delivered
   * either way. The codecs are a chunk of their own (about 5 KB gzip with io-ts and fp-ts, loaded with `import()`
   * when the client is created), so they cost nothing up front; events delivered before it has
   * loaded are checked as soon as it has.
   * @default true
   */
  readonly checkContexts?: boolean
  /**
   * The WebSocket constructor.
   * @default isomorphic-ws (the browser's `WebSocket`, or `ws` in Node)
   */
  readonly WebSocket?: WebSocketConstructor
  /** Reconnection delays; see {@link BackoffConfig} for the defaults. */
  readonly backoff?: BackoffConfig
  /**
   * Close and retry when no `identity` payload arrives this long (ms, at least 1) after the socket
   * was created.
   * @default 10000
   */
  readonly identityTimeoutMs?: number
  /**
   * Close and retry when no `ready` arrives this long (ms, at least 1) after the identify was sent.
   * @default 10000
   */
  readonly readyTimeoutMs?: number
  /**
   * Reconnect when no frame arrived for this long (ms); 0 turns it off. Off by default: the
   * server's pings are invisible to browsers and a quiet channel is normal.
   * @default 0
   */
  readonly livenessTimeoutMs?: number
  /**
   * How many event IDs the deduplication remembers (oldest forgotten first).
   * @default 10000
   */
  readonly dedupeCapacity?: number
  /**
   * Deliver a `sendAll` replay ordered by `m.ts` (the server sends it in random order); the
   * replay is then held until `done_prior`.
   * @default true
   */
  readonly orderReplay?: boolean
  /**
   * With `orderReplay`: the most replayed events held before `done_prior`. A replay that
   * reaches it is delivered as held (ordered by `m.ts`), the connection goes `live`, and a
   * `replay-cut` diagnostic says so; later replayed events arrive as they come.
   * @default 100000
   */
  readonly maxReplayHeld?: number
  /**
   * With `orderReplay`: the longest wait (ms) for `done_prior` after `ready` before what is
   * held is delivered as above; 0 waits for ever. (The server sends `done_prior` about 1 s after
   * the last replayed event.)
   * @default 30000
   */
  readonly replayTimeoutMs?: number
  /**
   * The server's ratelimit window (ms).
   * @default 420000 (7 minutes)
   */
  readonly rateWindowMs?: number
  /**
   * The least time between two identifies (ms); the old published guidance said 65 s.
   * @default 0
   */
  readonly minIdentifySpacingMs?: number
  /**
   * `metrics$` emits at most this often (ms) while counters change, and on every status change.
   * @default 1000
   */
  readonly metricsIntervalMs?: number
  /**
   * In a browser, reconnect at once (skipping a backoff delay) when it comes back online or
   * the page becomes visible.
   * @default true
   */
  readonly reconnectOnOnline?: boolean
  /**
   * The scheduler for every timer and clock reading (tests pass a virtual one).
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike
  /**
   * The source of jitter, a number in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number
}

/** The defaults of {@link ConnectOptions}, in one table. */
export const ConnectDefaults = Object.freeze({
  bot: true,
  resume: true,
  sendAll: false,
  sendNone: false,
  identityTimeoutMs: 10_000,
  readyTimeoutMs: 10_000,
  livenessTimeoutMs: 0,
  dedupeCapacity: 10_000,
  orderReplay: true,
  maxReplayHeld: 100_000,
  replayTimeoutMs: 30_000,
  rateWindowMs: Protocol.rateWindowMs,
  minIdentifySpacingMs: 0,
  metricsIntervalMs: 1_000,
  reconnectOnOnline: true,
  checkContexts: true,
} as const)

/** Options after validation, defaults filled in. */
export interface ResolvedOptions
  extends Required<Omit<ConnectOptions, 'WebSocket' | 'backoff' | 'scheduler' | 'random' | 'shareAcrossTabs' | 'persist'>> {
  readonly WebSocket: WebSocketConstructor | undefined
  readonly backoff: Required<BackoffConfig>
  /** The `persist` option as given (its store is found when the option's chunk loads). */
  readonly persist: boolean | PersistStore
}

/** Thrown by {@link connect} for a bad option. Its message never holds the token. */
export class ConnectOptionsError extends TypeError {
  override readonly name = 'ConnectOptionsError'
}

/** The reason an ID is not a snowflake ({@link isSnowflakeId}), or undefined when it is one. */
export function snowflakeProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') {
    return `must be a Discord snowflake as a decimal string (got a ${typeof id}; a snowflake does not fit a JS number)`
  }
  if (!isSnowflakeId(id)) {
    return `must be a Discord snowflake: ${SnowflakeRule}`
  }
  return undefined
}

/** The reason a URL is unusable, or undefined. Never echoes the URL (it might hold a secret). */
export function urlProblem(url: unknown, token: string | undefined): string | undefined {
  if (typeof url !== 'string') return `must be a string (got a ${typeof url})`
  // First: every later message quotes part of the URL (its scheme), which could be the token.
  if (token !== undefined && token !== '' && url.includes(token)) {
    return 'must not contain the token: the token is sent only inside the identify message'
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'is not a valid URL'
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    // Not quoting the scheme: the parser lowercases it and drops tabs and newlines from it, so
    // the check above misses a token spelt `HUNTER2:` or `hun\tter2:` there.
    return 'must use ws: or wss:'
  }
  return undefined
}

/** The reason a token is unusable, or undefined. Never echoes the token. */
export function tokenProblem(token: unknown): string | undefined {
  if (typeof token !== 'string') return `must be a string (got a ${typeof token})`
  if (token === '') return 'must not be empty'
  return undefined
}

/** The identify message, keys exactly as the protocol names them. */
export function identifyMessage(
  id: string,
  token: string,
  options: Pick<ResolvedOptions, 'bot' | 'sendAll' | 'sendNone'>,
  after?: Readonly<Record<string, string>>,
): string {
  return identifyText({ id, token, bot: options.bot, send_all: options.sendAll, send_none: options.sendNone }, after)
}

/**
 * What an option may be, in the words of its error message (`connect(): bot must be a boolean`),
 * and the check. Tables instead of a function per option: the message can never drift from
 * the check, and adding an option is one line.
 */
const Kinds = Object.freeze({
  'a boolean': (v: unknown) => typeof v === 'boolean',
  // Every such option is a timer's delay: setTimeout (browsers and Node) runs a delay past
  // 2**31 - 1 ms at once, so a longer one would fire immediately, not late.
  'a non-negative number below 2**31': (v: unknown) => typeof v === 'number' && v >= 0 && v < 2 ** 31,
  'a non-negative number': (v: unknown) => typeof v === 'number' && v >= 0,
  'a positive integer': (v: unknown) => Number.isInteger(v) && (v as number) > 0,
  // The eid memory's tables are allocated at once (dedupe-events.ts MaxDedupeCapacity): checked
  // here, at the call, as the memory is made only once persist's or the sharing's chunk loaded.
  'a positive integer up to 2**20': (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 2 ** 20,
  'at least 1 and below 2**31': (v: unknown) => typeof v === 'number' && v >= 1 && v < 2 ** 31,
} satisfies Record<string, (value: unknown) => boolean>)

/**
 * The options whose kind their default does not tell. Every other option in
 * {@link ConnectDefaults} and {@link BackoffDefaults} must be a boolean when its default is one,
 * else a non-negative number below 2**31 (a delay in ms that setTimeout can hold).
 */
const KindOf: Readonly<Record<string, keyof typeof Kinds>> = Object.freeze({
  dedupeCapacity: 'a positive integer up to 2**20',
  maxReplayHeld: 'a positive integer',
  'backoff.factor': 'at least 1 and below 2**31',
  'backoff.maxAttempts': 'a non-negative number',
  // 0 would time every handshake out at once (the liveness and replay waits take 0 as off).
  // And below 2**31, as every delay (above).
  identityTimeoutMs: 'at least 1 and below 2**31',
  readyTimeoutMs: 'at least 1 and below 2**31',
})

type Widened<T> = { -readonly [K in keyof T]: T[K] extends boolean ? boolean : number }

/** Each option of a defaults table, checked by its kind, or its default when not given. */
function withDefaults<T extends Readonly<Record<string, boolean | number>>>(
  defaults: T,
  given: { readonly [K in keyof T]?: unknown },
  prefix = '',
): Widened<T> {
  const resolved: Record<string, unknown> = {}
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = given[key as keyof T]
    const name = prefix + key
    const kind = KindOf[name] ?? (typeof fallback === 'boolean' ? 'a boolean' : 'a non-negative number below 2**31')
    if (value !== undefined && !Kinds[kind](value)) throw new ConnectOptionsError(`connect(): ${name} must be ${kind}`)
    resolved[key] = value ?? fallback
  }
  return resolved as Widened<T>
}

/**
 * The first problem of the url, id and token (`token must not be empty`), or undefined. With
 * `skipFunctions`, a value given as a function is left for when it is read.
 */
export function credentialsProblem(
  values: { readonly url: unknown; readonly id: unknown; readonly token: unknown },
  skipFunctions = false,
): string | undefined {
  const token = typeof values.token === 'string' ? values.token : undefined
  const checks = [
    ['token', tokenProblem],
    ['id', snowflakeProblem],
    ['url', (url: unknown) => urlProblem(url, token)],
  ] as const
  for (const [name, problemOf] of checks) {
    const value = values[name]
    const problem = skipFunctions && typeof value === 'function' ? undefined : problemOf(value)
    if (problem !== undefined) return `${name} ${problem}`
  }
  return undefined
}

/** Options that must be functions when given, and what each must be. */
const Functions = Object.freeze({
  WebSocket: 'a WebSocket constructor',
  random: 'a function returning a number in [0, 1)',
} as const satisfies Partial<Record<keyof ConnectOptions, string>>)

/**
 * Checks every option and fills in the defaults; throws a {@link ConnectOptionsError} naming
 * the first bad option. Values given as functions are checked when they are read.
 */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConnectOptionsError('connect(): options must be an object with url, id and token')
  }
  const problem = credentialsProblem(options, true)
  if (problem !== undefined) throw new ConnectOptionsError(`connect(): ${problem}`)
  const resolved = withDefaults(ConnectDefaults, options)
  if (resolved.sendNone && !resolved.sendAll) {
    throw new ConnectOptionsError(
      'connect(): sendNone without sendAll would receive no events at all (no replay and no live events); set sendAll: true with it, or drop sendNone',
    )
  }
  const tabs = options.shareAcrossTabs as (Partial<TabsEnvironment> & { worker?: unknown }) | boolean | undefined
  if (
    tabs !== undefined &&
    typeof tabs !== 'boolean' &&
    (typeof tabs !== 'object' || tabs === null || (!tabs.worker && (typeof tabs.locks?.request !== 'function' || typeof tabs.BroadcastChannel !== 'function')))
  ) {
    throw new ConnectOptionsError('connect(): shareAcrossTabs must be a boolean, an object with locks (a LockManager) and BroadcastChannel, or one with worker')
  }
  for (const [name, kind] of Object.entries(Functions)) {
    const value = options[name as keyof typeof Functions]
    if (value !== undefined && typeof value !== 'function') throw new ConnectOptionsError(`connect(): ${name} must be ${kind}`)
  }
  const { url, id, token } = options
  if (typeof token === 'string' && typeof id === 'string') {
    // Counted with the longest `after` a resume may add (`AfterLimits.maxBytes`): two positions
    // of the longest kind.
    const bytes = utf8Length(identifyMessage(id, token, resolved)) + AfterLimits.maxBytes + id.length
    if (bytes > Protocol.maxMessageBytes) {
      throw new ConnectOptionsError(
        `connect(): the identify message would be ${bytes} bytes; the server closes anything over ${Protocol.maxMessageBytes} (check the token)`,
      )
    }
  }
  return {
    ...resolved,
    url,
    id,
    token,
    WebSocket: options.WebSocket,
    persist: options.persist ?? false,
    backoff: withDefaults(BackoffDefaults, options.backoff ?? {}, 'backoff.'),
  }
}
