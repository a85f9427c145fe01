import { isSnowflakeId, SnowflakeRule } from '@fates-rx/core/protocol'
import type { Credentials } from '../stores/store.js'
import type { RelayConfig } from './relay.js'
import { RetryDefaults } from './machine.js'
import { PublishRetry } from './relay.js'
// Past it, a grace period would close the upstream as its last viewer leaves, and a retry
// wait would retry a refused upstream at once, again and again (the origin's identify budget).
import { MaxTimerMs } from '../protocol/timers.js'

/**
 * Relay mode (`ServerOptions.relay`): the server relays the named targets from an upstream (an
 * origin, or another relay) instead of being their origin. Viewers identify with the server's
 * own credentials for those ids (`bots` / `servers` of `ServerOptions`: the viewer tokens);
 * only the relay holds the upstream's.
 */
export interface RelayOptions {
  /** The upstream's websocket URL (`ws:` or `wss:`), e.g. `wss://origin.example/ws`. Never put a token in it. */
  readonly upstream: string
  /** The bots relayed, with the upstream's tokens for them. @default [] */
  readonly bots?: readonly Credentials[]
  /** The servers (guilds) relayed, with the upstream's tokens for them. @default [] */
  readonly servers?: readonly Credentials[]
  /**
   * How long a target's upstream connection stays open after its last viewer left
   * (milliseconds; 0 closes it at once). A viewer that reloads the page within it costs the
   * upstream nothing. @default 30000
   */
  readonly graceMs?: number
  /**
   * The wait before a failed upstream's first retry (milliseconds); it doubles with each
   * failed retry up to `retryMaxMs`, jittered by ±20 %. `SIGHUP` or
   * `POST /admin/upstreams/retry` retry at once. @default 60000
   */
  readonly retryMs?: number
  /** The longest wait between retries of a failed upstream (milliseconds, ≥ `retryMs`). @default 1800000 */
  readonly retryMaxMs?: number
  /**
   * How long the relay retries storing a batch of upstream events its store refuses (a Redis
   * down) before it gives the batch up and fetches it again from the upstream with a fresh
   * client (milliseconds, ≥ 1; the retries start at 250 ms and double up to 8 s). It counts the
   * waits between attempts: a store that hangs rather than refuses adds each attempt's own
   * time (Redis's command timeout, 5 s by default).
   * @default 60000 (`PublishRetry.giveUpMs`)
   */
  readonly storeGiveUpMs?: number
  /** Extra options for each upstream `connect()`: backoff, timeouts, a `WebSocket`. @default core's defaults */
  readonly connect?: RelayConfig['connect']
}

/** The defaults of {@link RelayOptions}, in one table. */
export const RelayDefaults = Object.freeze({
  graceMs: 30_000,
  retryMs: RetryDefaults.firstMs,
  retryMaxMs: RetryDefaults.maxMs,
  storeGiveUpMs: PublishRetry.giveUpMs,
} as const satisfies Partial<Record<keyof RelayOptions, number>>)

/** What {@link resolveRelay} needs to know of the rest of the server's options. */
export interface RelaySurroundings {
  /** The viewer tokens, when they are held in memory (not PostgreSQL or a custom store). */
  readonly viewers?: { readonly bots: readonly Credentials[]; readonly servers: readonly Credentials[] }
}

/**
 * Checks relay options and applies defaults; throws a `TypeError`/`RangeError` naming the option
 * and the target's id, never a token or the URL (which may hold a password).
 */
export function resolveRelay(options: RelayOptions, around: RelaySurroundings = {}): RelayConfig {
  if (typeof options !== 'object' || options === null) throw new TypeError('relay must be an object { upstream, bots, servers }')
  let url: URL | undefined
  try {
    url = typeof options.upstream === 'string' ? new URL(options.upstream) : undefined
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw new TypeError('relay.upstream must be a ws:// or wss:// URL')
  }
  const graceMs = options.graceMs ?? RelayDefaults.graceMs
  if (typeof graceMs !== 'number' || !Number.isSafeInteger(graceMs) || graceMs < 0 || graceMs > MaxTimerMs) {
    throw new RangeError(`relay.graceMs must be a whole number ≥ 0 and ≤ ${MaxTimerMs} (a timer's longest wait), got ${String(graceMs)}`)
  }
  const retryMs = options.retryMs ?? RelayDefaults.retryMs
  const retryMaxMs = options.retryMaxMs ?? Math.max(RelayDefaults.retryMaxMs, typeof retryMs === 'number' ? retryMs : 0)
  if (typeof retryMs !== 'number' || !Number.isSafeInteger(retryMs) || retryMs < 1 || retryMs > MaxTimerMs) {
    throw new RangeError(`relay.retryMs must be a whole number ≥ 1 and ≤ ${MaxTimerMs} (a timer's longest wait), got ${String(retryMs)}`)
  }
  if (typeof retryMaxMs !== 'number' || !Number.isSafeInteger(retryMaxMs) || retryMaxMs < retryMs || retryMaxMs > MaxTimerMs) {
    throw new RangeError(`relay.retryMaxMs must be a whole number ≥ relay.retryMs (${retryMs}) and ≤ ${MaxTimerMs} (a timer's longest wait), got ${String(retryMaxMs)}`)
  }
  const storeGiveUpMs = options.storeGiveUpMs ?? RelayDefaults.storeGiveUpMs
  if (typeof storeGiveUpMs !== 'number' || !Number.isSafeInteger(storeGiveUpMs) || storeGiveUpMs < 1) {
    throw new RangeError(`relay.storeGiveUpMs must be a whole number ≥ 1, got ${String(storeGiveUpMs)}`)
  }
  const lists = { bots: options.bots ?? [], servers: options.servers ?? [] }
  for (const [key, list] of Object.entries(lists) as ['bots' | 'servers', readonly Credentials[]][]) {
    if (!Array.isArray(list)) throw new TypeError(`relay.${key} must be an array of { id, token }`)
    const seen = new Set<string>()
    for (const [index, entry] of list.entries()) {
      const { id, token } = (entry ?? {}) as Partial<Credentials>
      if (!isSnowflakeId(id)) {
        throw new TypeError(`relay.${key}[${index}].id must be a snowflake as a string: ${SnowflakeRule}`)
      }
      if (typeof token !== 'string' || token === '') throw new TypeError(`relay.${key}[${index}].token must be a non-empty string`)
      if (options.upstream.includes(token)) throw new TypeError(`relay.upstream must not contain a token (relay.${key}[${index}])`)
      if (seen.has(id)) throw new TypeError(`relay.${key} names ${id} twice`)
      seen.add(id)
      const viewer = around.viewers?.[key].find((v) => v.id === id)
      if (around.viewers !== undefined && viewer === undefined) {
        throw new TypeError(`relay.${key}[${index}] (${id}) has no viewer token: add ${key}: [{ id: '${id}', token }] (--${key.slice(0, -1)} ${id}:VIEWER_TOKEN)`)
      }
      if (viewer !== undefined && viewer.token === token) {
        throw new TypeError(`${key} ${id}: the viewer token must differ from the upstream's, or viewers would hold the upstream's credential`)
      }
    }
    for (const viewer of around.viewers?.[key] ?? []) {
      if (!seen.has(viewer.id)) {
        throw new TypeError(`${key} ${viewer.id} is not relayed: in relay mode ${key} are viewer tokens of relayed targets (add relay.${key} { id: '${viewer.id}', token }, --upstream-${key.slice(0, -1)} ${viewer.id}:TOKEN)`)
      }
    }
  }
  // Every viewer entry (the in-memory lookup keeps the last of an id, not the first checked
  // above), against every target's upstream token: a viewer token is public by design.
  if (around.viewers !== undefined) {
    const upstreamTokens = new Set([...lists.bots, ...lists.servers].map((c) => c.token))
    for (const key of ['bots', 'servers'] as const) {
      for (const viewer of around.viewers[key]) {
        if (upstreamTokens.has(viewer.token)) {
          throw new TypeError(`${key} ${viewer.id}: the viewer token must differ from the upstream's (every relayed target's), or viewers would hold the upstream's credential`)
        }
      }
    }
  }
  if (lists.bots.length + lists.servers.length === 0) {
    throw new TypeError('relay needs at least one target: relay.bots or relay.servers (--upstream-bot / --upstream-server ID:TOKEN)')
  }
  return {
    upstream: options.upstream,
    bots: lists.bots,
    servers: lists.servers,
    graceMs,
    retry: Object.freeze({ firstMs: retryMs, maxMs: retryMaxMs }),
    ...(storeGiveUpMs === PublishRetry.giveUpMs ? {} : { storeRetry: Object.freeze({ ...PublishRetry, giveUpMs: storeGiveUpMs }) }),
    ...(options.connect === undefined ? {} : { connect: options.connect }),
  }
}
