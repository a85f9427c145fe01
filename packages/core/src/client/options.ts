import type { WebSocketConstructor } from '../socket/index.js'
import { Protocol } from '../protocol/index.js'
import type { SchedulerLike } from 'rxjs'
import { type BackoffConfig, BackoffDefaults } from './backoff.js'

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
   * The WebSocket constructor.
   * @default isomorphic-ws (the browser's `WebSocket`, or `ws` in Node)
   */
  readonly WebSocket?: WebSocketConstructor
  /** Reconnection delays; see {@link BackoffConfig} for the defaults. */
  readonly backoff?: BackoffConfig
  /**
   * Close and retry when no `identity` payload arrives this long (ms) after the socket was created.
   * @default 10000
   */
  readonly identityTimeoutMs?: number
  /**
   * Close and retry when no `ready` arrives this long (ms) after the identify was sent.
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
  sendAll: false,
  sendNone: false,
  identityTimeoutMs: 10_000,
  readyTimeoutMs: 10_000,
  livenessTimeoutMs: 0,
  dedupeCapacity: 10_000,
  orderReplay: true,
  rateWindowMs: Protocol.rateWindowMs,
  minIdentifySpacingMs: 0,
  metricsIntervalMs: 1_000,
  reconnectOnOnline: true,
} as const)

/** Options after validation, defaults filled in. */
export interface ResolvedOptions
  extends Required<Omit<ConnectOptions, 'WebSocket' | 'backoff' | 'scheduler' | 'random'>> {
  readonly WebSocket: WebSocketConstructor | undefined
  readonly backoff: Required<BackoffConfig>
}

/** Thrown by {@link connect} for a bad option. Its message never holds the token. */
export class ConnectOptionsError extends TypeError {
  override readonly name = 'ConnectOptionsError'
}

const snowflake = /^[1-9][0-9]{0,19}$/
const maxSnowflake = 2n ** 64n - 1n

/** The reason an ID is not a snowflake, or undefined when it is one. */
export function snowflakeProblem(id: unknown): string | undefined {
  if (typeof id !== 'string') {
    return `must be a Discord snowflake as a decimal string (got a ${typeof id}; a snowflake does not fit a JS number)`
  }
  if (!snowflake.test(id) || BigInt(id) > maxSnowflake) {
    return 'must be a Discord snowflake: a positive decimal integer as a string, like "811073947382579200"'
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
    return `must use ws: or wss: (got ${parsed.protocol})`
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
): string {
  return JSON.stringify({ id, token, bot: options.bot, send_all: options.sendAll, send_none: options.sendNone })
}

function nonNegative(name: string, value: unknown, fallback: number, allowInfinity = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowInfinity && !Number.isFinite(value))) {
    throw new ConnectOptionsError(`connect(): ${name} must be a non-negative ${allowInfinity ? 'number' : 'finite number'}`)
  }
  return value
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConnectOptionsError(`connect(): ${name} must be a boolean`)
  return value
}

/**
 * Checks every option and fills in the defaults; throws a {@link ConnectOptionsError} naming
 * the first bad option. Values given as functions are checked when they are read.
 */
export function resolveOptions(options: ConnectOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConnectOptionsError('connect(): options must be an object with url, id and token')
  }
  const token = typeof options.token === 'function' ? undefined : options.token
  if (typeof options.token !== 'function') {
    const problem = tokenProblem(options.token)
    if (problem !== undefined) throw new ConnectOptionsError(`connect(): token ${problem}`)
  }
  if (typeof options.id !== 'function') {
    const problem = snowflakeProblem(options.id)
    if (problem !== undefined) throw new ConnectOptionsError(`connect(): id ${problem}`)
  }
  if (typeof options.url !== 'function') {
    const problem = urlProblem(options.url, token)
    if (problem !== undefined) throw new ConnectOptionsError(`connect(): url ${problem}`)
  }
  const bot = boolean('bot', options.bot, ConnectDefaults.bot)
  const sendAll = boolean('sendAll', options.sendAll, ConnectDefaults.sendAll)
  const sendNone = boolean('sendNone', options.sendNone, ConnectDefaults.sendNone)
  if (sendNone && !sendAll) {
    throw new ConnectOptionsError(
      'connect(): sendNone without sendAll would receive no events at all (no replay and no live events); set sendAll: true with it, or drop sendNone',
    )
  }
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') {
    throw new ConnectOptionsError('connect(): WebSocket must be a WebSocket constructor')
  }
  const b = options.backoff ?? {}
  const backoff: Required<BackoffConfig> = {
    initialDelayMs: nonNegative('backoff.initialDelayMs', b.initialDelayMs, BackoffDefaults.initialDelayMs),
    factor: nonNegative('backoff.factor', b.factor, BackoffDefaults.factor),
    maxDelayMs: nonNegative('backoff.maxDelayMs', b.maxDelayMs, BackoffDefaults.maxDelayMs),
    maxAttempts: nonNegative('backoff.maxAttempts', b.maxAttempts, BackoffDefaults.maxAttempts, true),
    resetAfterMs: nonNegative('backoff.resetAfterMs', b.resetAfterMs, BackoffDefaults.resetAfterMs),
  }
  if (backoff.factor < 1) throw new ConnectOptionsError('connect(): backoff.factor must be at least 1')
  const dedupeCapacity = nonNegative('dedupeCapacity', options.dedupeCapacity, ConnectDefaults.dedupeCapacity)
  if (!Number.isInteger(dedupeCapacity) || dedupeCapacity < 1) {
    throw new ConnectOptionsError('connect(): dedupeCapacity must be a positive integer')
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw new ConnectOptionsError('connect(): random must be a function returning a number in [0, 1)')
  }
  if (token !== undefined && typeof options.id === 'string') {
    const bytes = new TextEncoder().encode(identifyMessage(options.id, token, { bot, sendAll, sendNone })).length
    if (bytes > Protocol.maxMessageBytes) {
      throw new ConnectOptionsError(
        `connect(): the identify message would be ${bytes} bytes; the server closes anything over ${Protocol.maxMessageBytes} (check the token)`,
      )
    }
  }
  return {
    url: options.url,
    id: options.id,
    token: options.token,
    bot,
    sendAll,
    sendNone,
    WebSocket: options.WebSocket,
    backoff,
    identityTimeoutMs: nonNegative('identityTimeoutMs', options.identityTimeoutMs, ConnectDefaults.identityTimeoutMs),
    readyTimeoutMs: nonNegative('readyTimeoutMs', options.readyTimeoutMs, ConnectDefaults.readyTimeoutMs),
    livenessTimeoutMs: nonNegative('livenessTimeoutMs', options.livenessTimeoutMs, ConnectDefaults.livenessTimeoutMs),
    dedupeCapacity,
    orderReplay: boolean('orderReplay', options.orderReplay, ConnectDefaults.orderReplay),
    rateWindowMs: nonNegative('rateWindowMs', options.rateWindowMs, ConnectDefaults.rateWindowMs),
    minIdentifySpacingMs: nonNegative('minIdentifySpacingMs', options.minIdentifySpacingMs, ConnectDefaults.minIdentifySpacingMs),
    metricsIntervalMs: nonNegative('metricsIntervalMs', options.metricsIntervalMs, ConnectDefaults.metricsIntervalMs),
    reconnectOnOnline: boolean('reconnectOnOnline', options.reconnectOnOnline, ConnectDefaults.reconnectOnOnline),
  }
}
