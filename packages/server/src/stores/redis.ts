import { randomBytes, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Position } from '@fates-rx/core/protocol'
import { silentLogger, type Logger } from '../log.js'
import { goJson } from '../wire/encode.js'
import {
  GlobalChannel,
  StoreOutcomeUnknown,
  type EventListener,
  type EventsById,
  type EventToStore,
  type IdentityKind,
  type Store,
  type TokenLookup,
  type Unsubscribe,
} from './store.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`; never logged (only host and port are). */
  readonly url: string
  /** Where tokens come from (the original kept them in PostgreSQL). */
  readonly tokens: TokenLookup
  /** Where connection trouble is reported. @default no logging */
  readonly logger?: Logger
  /** A command without an answer in this time fails (and its client gets 4500). @default 5000 */
  readonly commandTimeoutMs?: number
  /** How many of the server's own events each channel keeps for `send_all`. @default 1000 */
  readonly history?: number
  /**
   * Also append every event to the original's stored blob (hash field `ws` of the channel's
   * key), for a fleet that still runs the original server beside this one. That blob is
   * rewritten whole on each write (once per script call of up to 256 events) and never
   * trimmed, as the original did: publishing costs more as it grows, a migration-only mode. @default false
   */
  readonly writeOriginalHistory?: boolean
  /**
   * Stamp every stored event with its position in its channel (`m.pos`), so that a client can
   * resume exactly after the last one it got. `false`: events are kept as published, byte for
   * byte what the original server sent. @default true
   */
  readonly positions?: boolean
}

/** The keys of the server's own history of a channel (see {@link RedisStore}). */
export const RedisKeys = Object.freeze({
  /** Hash: eid → the event as JSON. */
  history: (channel: string): string => `fates-rx:history:${channel}`,
  /** Sorted set: eids scored by when Redis stored them, oldest first, for trimming. */
  order: (channel: string): string => `fates-rx:order:${channel}`,
  /** Hash: `epoch` (this channel's life) and `offset` (the last stored event's), for `m.pos`. */
  position: (channel: string): string => `fates-rx:position:${channel}`,
})

// Stores and publishes a chunk of events atomically, each at a cost that does not grow with
// the history: HSETNX makes the eid the idempotency key (a repeat is neither stored nor
// published), the sorted set orders eids by Redis's clock so that the oldest are trimmed
// beyond the limit, and the live message is the original's `{"<eid>": event}`. Optionally it
// also appends to the original's blob (hash field `ws`), spliced as text (decoding it with
// cjson would round numbers and lose the producer's bytes): every blob the chunk touches is
// checked before anything is written, so a blob that is not a JSON object fails the chunk
// with nothing stored, and each blob is rewritten once per chunk, not once per event.
//
// With positions on, each stored event is stamped with its place in its channel (`m.pos`,
// "<epoch>:<offset>", core's codec/position.ts) here, inside the same atomic call that stores
// it, so that offsets follow the order Redis stored in whichever instance published: the
// channel's position hash holds the epoch (from the caller's random candidate, gone with a
// FLUSHALL, and set anew by the first stamp of another Redis process: a restart may have
// restored an older snapshot whose offsets will be stamped again on other events), the run id
// of the process that set it, and the last offset. The caller
// sends the event's JSON cut where the position's text goes.
//
// KEYS: per event, its history hash, order set, channel and position hash. ARGV: the history
// limit, '1' to write the original's blob, a candidate epoch ('' : positions off), then per
// event its eid, the eid as JSON, the event's JSON before and after the position's text, '1'
// to publish it live ('0': history only, a relay keeping its origin's replay), and '1' to
// stamp it.
const PublishScript = `
local limit = tonumber(ARGV[1])
local original = ARGV[2] == '1'
local candidate = ARGV[3]
local now = redis.call('TIME')
-- This Redis process's run id: a position hash last written by another one may have been
-- restored from an older snapshot (offsets rolled back), so it starts a new life (epoch).
local run = candidate ~= '' and string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') or ''
local clock = tonumber(now[1]) * 1000000 + tonumber(now[2])
local bodies, appended, channels = {}, {}, {}
if original then
  for i = 0, #KEYS / 4 - 1 do
    local channel = KEYS[i * 4 + 3]
    if bodies[channel] == nil then
      local current = redis.call('HGET', channel, 'ws')
      local body = ''
      if current then
        body = string.match(current, '^%s*{%s*(.-)%s*}%s*$')
        if body == nil then
          return redis.error_reply('stored events of ' .. channel .. ' are not a JSON object')
        end
      end
      bodies[channel] = body
      appended[channel] = {}
      channels[#channels + 1] = channel
    end
  end
end
local stored = {}
for i = 0, #KEYS / 4 - 1 do
  local history, order, channel, position = KEYS[i * 4 + 1], KEYS[i * 4 + 2], KEYS[i * 4 + 3], KEYS[i * 4 + 4]
  local base = i * 6 + 3
  local eid, quoted, event, live = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 5] == '1'
  if redis.call('HEXISTS', history, eid) == 1 then
    stored[i + 1] = 0
  else
    if candidate ~= '' and ARGV[base + 6] == '1' then
      if redis.call('HGET', position, 'run') ~= run then redis.call('HSET', position, 'epoch', candidate, 'run', run) end
      local offset = redis.call('HINCRBY', position, 'offset', 1)
      event = event .. '"' .. redis.call('HGET', position, 'epoch') .. ':' .. offset .. '"' .. ARGV[base + 4]
    end
    redis.call('HSET', history, eid, event)
    redis.call('ZADD', order, clock + i, eid)
    local excess = redis.call('ZCARD', order) - limit
    if excess > 0 then
      local oldest = redis.call('ZPOPMIN', order, excess)
      for j = 1, #oldest, 2 do redis.call('HDEL', history, oldest[j]) end
    end
    local entry = quoted .. ':' .. event
    if original then
      local list = appended[channel]
      list[#list + 1] = entry
    end
    if live then redis.call('PUBLISH', channel, '{' .. entry .. '}') end
    stored[i + 1] = 1
  end
end
for _, channel in ipairs(channels) do
  local list = appended[channel]
  if #list > 0 then
    local entries = table.concat(list, ',')
    local body = bodies[channel]
    if body == '' then
      redis.call('HSET', channel, 'ws', '{' .. entries .. '}')
    else
      redis.call('HSET', channel, 'ws', '{' .. body .. ',' .. entries .. '}')
    end
  end
end
return stored
`

/**
 * The most one publish script call holds: a larger batch is split into calls of at most this
 * many events and bytes (of event JSON), sent together (pipelined, in order), so that no
 * single script blocks Redis for long (one call of 19,230 events blocked it about 266 ms).
 * A call of the most events takes a few milliseconds.
 */
export const RedisScriptLimits = Object.freeze({
  /** Events per script call. */
  maxEvents: 256,
  /** Bytes of event JSON per script call (an event larger than this goes alone). */
  maxBytes: 256 * 1024,
})

// INCRBY, and an expiry only when the counter has none: the window is fixed at creation, as
// the original's `wsrl-*` keys were, and a crash between the two cannot leave a counter that
// never expires.
const CountRequestScript = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`

/**
 * A URL without anything up to its last `@`, however a parser would split it: a password with an
 * unescaped `/` or `?` ends the URL parser's authority early (`u:123` read as host and port, the
 * rest of the password as a path), so taking the parsed host or path alone would show it. A URL
 * with an `@` in its path or query loses part of them too: a wrong host may be named, never a
 * secret.
 */
export const withoutCredentials = (url: string): string => url.replace(/\/\/.*@/s, '//')

/** `host:port` of a Redis or PostgreSQL URL, for log lines that must not carry a password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(withoutCredentials(url))
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(unparsable URL)'
  }
}

const describeError = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** Parses a JSON object keyed by event ID; `undefined` when it is not one. */
function parseEvents(text: string): EventsById | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as EventsById) : undefined
  } catch {
    return undefined
  }
}

/**
 * A {@link Store} in Redis that can replace the original in an existing deployment and lets
 * several instances serve one audience:
 * live events on the original's pub/sub channels `bot-<id>`, `server-<id>` and `global` as
 * `{"<eid>": event}`; the server's own history of each channel in a hash (eid → event) and a
 * sorted set (eids in the order stored), trimmed to `history` events, so that a publish costs
 * the same however long the history (see {@link RedisKeys}); a replay also reads what an
 * original producer stored (hash field `ws` of the channel's key, and the plain string key
 * `global` the original read); ratelimit counters `wsrl-<id>-bot` / `wsrl-<id>-server` with
 * their expiry set at creation.
 *
 * Commands fail at once while Redis is unreachable (no offline queue), so a client is closed
 * with 4500 instead of hanging; the connections retry in the background.
 */
export class RedisStore implements Store {
  readonly #commands: Redis
  readonly #subscriber: Redis
  readonly #tokens: TokenLookup
  readonly #logger: Logger
  readonly #where: string
  readonly #listeners = new Map<string, Set<EventListener>>()
  readonly #subscriptions = new Map<string, { readonly listeners: Set<EventListener>; readonly ready: Promise<void> }>()
  readonly #interrupted = new Set<(error: Error) => void>()
  readonly #history: number
  readonly #writeOriginal: boolean
  readonly #positions: boolean
  #closing = false

  /** See {@link Store.headOf}; absent with `positions: false`. */
  readonly headOf?: (channel: string) => Promise<Position | undefined>

  private constructor(options: RedisStoreOptions) {
    const { url, tokens, logger = silentLogger, commandTimeoutMs = 5_000, history = 1000, writeOriginalHistory = false, positions = true } = options
    if (!Number.isSafeInteger(history) || history < 1) throw new RangeError(`history must be a whole number ≥ 1, got ${history}`)
    this.#history = history
    this.#writeOriginal = writeOriginalHistory
    this.#positions = positions
    if (positions) this.headOf = (channel) => this.#headOf(channel)
    this.#tokens = tokens
    this.#logger = logger
    this.#where = redactUrl(url)
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      retryStrategy: (times: number) => Math.min(100 * times, 2_000),
    }
    this.#commands = new Redis(url, { ...common, connectionName: 'fates-rx' })
    this.#subscriber = new Redis(url, { ...common, connectionName: 'fates-rx-subscriber', autoResubscribe: true })
    this.#commands.defineCommand('fatesPublish', { lua: PublishScript })
    this.#commands.defineCommand('fatesCountRequest', { numberOfKeys: 1, lua: CountRequestScript })
    this.#watch(this.#commands, 'commands', false)
    this.#watch(this.#subscriber, 'subscriber', true)
    this.#subscriber.on('message', (channel: string, message: string) => this.#deliver(channel, message))
  }

  /**
   * Connects both connections (commands and pub/sub) and resolves once they answer; rejects
   * with a clear error, naming only host and port, when Redis is unreachable.
   */
  static async connect(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options)
    try {
      await Promise.all([store.#commands.connect(), store.#subscriber.connect()])
      await store.#commands.ping()
    } catch (error) {
      store.#closing = true
      store.#commands.disconnect()
      store.#subscriber.disconnect()
      throw new Error(`cannot reach Redis at ${store.#where}: ${error instanceof Error ? error.message : String(error)}`)
    }
    return store
  }

  #watch(client: Redis, role: string, reportLoss: boolean): void {
    let lost = false
    let attempts = 0
    client.on('error', (error: Error) => {
      if (!this.#closing && attempts % 20 === 0) this.#logger.error(`redis ${role} (${this.#where}): ${error.message}`)
    })
    client.on('close', () => {
      if (this.#closing || lost) return
      lost = true
      this.#logger.error(`redis ${role} connection to ${this.#where} lost; retrying`)
      if (reportLoss) {
        const error = new Error('lost the Redis pub/sub connection')
        for (const listener of this.#interrupted) listener(error)
      }
    })
    client.on('reconnecting', () => {
      attempts++
    })
    client.on('ready', () => {
      if (lost) this.#logger.info(`redis ${role} connection to ${this.#where} restored`)
      lost = false
      attempts = 0
    })
  }

  #deliver(channel: string, message: string): void {
    const listeners = this.#listeners.get(channel)
    if (listeners === undefined) return
    const events = parseEvents(message)
    if (events === undefined) {
      this.#logger.error(`redis: a message on ${channel} is not a JSON object keyed by eid; skipped`)
      return
    }
    for (const listener of listeners) listener(channel, events)
  }

  tokenOf(kind: IdentityKind, id: string): Promise<string | undefined> {
    return this.#tokens.tokenOf(kind, id)
  }

  async countRequest(key: string, cost: number, windowMs: number): Promise<number> {
    const value = await (this.#commands as unknown as Scripts).fatesCountRequest(key, cost, windowMs)
    return Number(value)
  }

  async publish(channel: string, eid: string, event: unknown, live = true): Promise<boolean> {
    const [stored] = await this.publishMany([{ channel, eid, event, live }])
    return stored === true
  }

  async publishMany(events: readonly EventToStore[]): Promise<boolean[]> {
    if (events.length === 0) return []
    // Not sent at all (no offline queue): then nothing was stored, for certain.
    if (this.#commands.status !== 'ready') throw new Error(`Redis at ${this.#where} is unreachable; nothing was stored`)
    // The position's text goes where this placeholder's JSON is: unique per call, so that no
    // producer's bytes can look like it.
    const placeholder = this.#positions ? `fates-rx-pos-${randomUUID()}` : undefined
    const chunks = chunked(events.map((event) => ({ ...event, ...encodeCut(event.event, placeholder) })))
    // Sent together: Redis runs them in order, other clients' commands between them.
    const answers = await Promise.allSettled(chunks.map((chunk) => this.#publishChunk(chunk)))
    const outcome: boolean[] = []
    let storedSome = false
    let failure: unknown
    for (const [index, answer] of answers.entries()) {
      const chunk = chunks[index]!
      const settled = answer.status === 'fulfilled' ? answer.value : await this.#settle(chunk, answer.reason)
      if (settled instanceof Array) {
        outcome.push(...settled)
        storedSome = true
      } else {
        failure ??= settled
        outcome.push(...chunk.map(() => false))
      }
    }
    if (failure === undefined) return outcome
    // Each call is all or none, the batch is not: once one call stored, an error would lie.
    if (!storedSome || chunks.length === 1) throw failure
    throw new StoreOutcomeUnknown('Redis stored part of the batch; retrying with the same eids is safe')
  }

  async #publishChunk(events: readonly Encoded[]): Promise<boolean[]> {
    const keys: string[] = []
    // A candidate epoch for channels that have none yet (the script keeps an existing one).
    const candidate = this.#positions ? randomBytes(6).toString('hex') : ''
    const args: string[] = [String(this.#history), this.#writeOriginal ? '1' : '0', candidate]
    for (const { channel, eid, json, tail, live = true } of events) {
      keys.push(RedisKeys.history(channel), RedisKeys.order(channel), channel, RedisKeys.position(channel))
      args.push(eid, JSON.stringify(eid), json, tail ?? '', live ? '1' : '0', tail === undefined ? '0' : '1')
    }
    const stored = (await (this.#commands as unknown as Scripts).fatesPublish(keys.length, ...keys, ...args)) as number[]
    return stored.map((flag) => flag === 1)
  }

  /**
   * After a failed publish, finds out whether the script ran: it is atomic, so it ran exactly
   * when every eid is in its history now (Redis answers a connection's commands in order, so
   * this check sees the script's effect even when only its answer timed out). Resolves to
   * the outcome when every event is stored (reported as stored: whether some were repeats is
   * lost with the answer), else to the error to report: the original when nothing was stored,
   * {@link StoreOutcomeUnknown} when Redis cannot tell.
   */
  async #settle(events: readonly EventToStore[], error: unknown): Promise<boolean[] | unknown> {
    let present: number[]
    try {
      const check = this.#commands.pipeline()
      for (const { channel, eid } of events) check.hexists(RedisKeys.history(channel), eid)
      const results = (await check.exec()) ?? []
      present = results.map(([failed, value]) => {
        if (failed !== null) throw failed
        return Number(value)
      })
    } catch {
      return new StoreOutcomeUnknown('Redis failed while publishing and cannot say whether the events were stored; retrying with the same eids is safe')
    }
    if (present.length === events.length && present.every((flag) => flag === 1)) {
      this.#logger.error(`redis: publish answered ${describeError(error)}, but every event is stored`)
      return events.map(() => true)
    }
    return error
  }

  async #headOf(channel: string): Promise<Position | undefined> {
    const [epoch, offset] = await this.#commands.hmget(RedisKeys.position(channel), 'epoch', 'offset')
    return epoch === null || epoch === undefined ? undefined : { epoch, offset: Number(offset ?? 0) }
  }

  async storedEvents(channel: string): Promise<EventsById> {
    const [own, original] = await Promise.all([this.#commands.hgetall(RedisKeys.history(channel)), this.#originalEvents(channel)])
    // A barrier on the pub/sub connection: its answer comes after the live message of every
    // event just read (published before the read ran), so that those reach the subscribers
    // first; a reader holding live events until the replay is queued then skips them by eid
    // instead of receiving them a second time after it.
    if (this.#subscriber.status === 'ready') await this.#subscriber.ping()
    // The original producer's events first, so that the server's own copy of an eid wins.
    // Eids are the producers' strings: keyed into an object without a prototype, `__proto__`
    // is an eid like any other instead of a way to replace the object's prototype.
    const events: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (const [eid, event] of Object.entries(original)) events[eid] = event
    let unreadable = 0
    for (const [eid, text] of Object.entries(own)) {
      try {
        events[eid] = JSON.parse(text) as unknown
      } catch {
        unreadable++
      }
    }
    if (unreadable > 0) this.#logger.error(`redis: ${unreadable} stored events of ${channel} are not JSON; not replayed`)
    return events
  }

  /** What an original producer stored for `channel` (a JSON object keyed by eid). */
  async #originalEvents(channel: string): Promise<EventsById> {
    let text: string | null
    if (channel === GlobalChannel) {
      // The original's producer wrote `global` into the hash field `ws` while its reader read
      // a plain string key; read whichever exists.
      const type = await this.#commands.type(channel)
      text = type === 'hash' ? await this.#commands.hget(channel, 'ws') : type === 'string' ? await this.#commands.get(channel) : null
    } else {
      text = await this.#commands.hget(channel, 'ws')
    }
    if (text === null) return {}
    const events = parseEvents(text)
    if (events === undefined) {
      this.#logger.error(`redis: stored events of ${channel} are not a JSON object keyed by eid; not replayed`)
      return {}
    }
    return events
  }

  async ping(): Promise<void> {
    await this.#commands.ping()
  }

  async subscribe(channel: string, listener: EventListener): Promise<Unsubscribe> {
    let entry = this.#subscriptions.get(channel)
    if (entry === undefined) {
      const listeners = new Set<EventListener>()
      const created = { listeners, ready: this.#subscriber.subscribe(channel).then(() => undefined) }
      entry = created
      this.#listeners.set(channel, listeners)
      this.#subscriptions.set(channel, created)
      created.ready.catch(() => {
        if (this.#subscriptions.get(channel) === created) {
          this.#subscriptions.delete(channel)
          this.#listeners.delete(channel)
        }
      })
    }
    // Every caller waits for the one SUBSCRIBE, so none is told "active" too early. The
    // listener counts from now: an unsubscribe that runs during the wait (the last listener
    // leaving in this turn) must find it and keep the subscription.
    entry.listeners.add(listener)
    try {
      await entry.ready
    } catch (error) {
      entry.listeners.delete(listener)
      throw error
    }
    const own = entry
    return async () => {
      own.listeners.delete(listener)
      if (own.listeners.size > 0 || this.#subscriptions.get(channel) !== own) return
      this.#subscriptions.delete(channel)
      this.#listeners.delete(channel)
      if (this.#subscriber.status === 'ready') await this.#subscriber.unsubscribe(channel)
    }
  }

  onInterrupted(listener: (error: Error) => void): void {
    this.#interrupted.add(listener)
  }

  async close(): Promise<void> {
    this.#closing = true
    this.#listeners.clear()
    this.#subscriptions.clear()
    await Promise.allSettled([this.#commands.quit(), this.#subscriber.quit()])
    this.#commands.disconnect()
    this.#subscriber.disconnect()
  }
}

/** One event for a script call, its JSON written once. */
interface Encoded extends EventToStore {
  /** The event's JSON; with a position to stamp, only up to where its text goes. */
  readonly json: string
  /** With a position to stamp: the event's JSON after the position's text. */
  readonly tail?: string
}

/**
 * The event's JSON, cut where `m.pos`'s text goes when `placeholder` is given (the event
 * encoded with the placeholder as its `m.pos`, keys sorted as Go wrote them, then split on the
 * placeholder's JSON); whole when not, or when the event has no `m` object to stamp.
 */
function encodeCut(event: unknown, placeholder: string | undefined): { json: string; tail?: string } {
  const m = (event as { m?: unknown } | null)?.m
  if (placeholder === undefined || typeof m !== 'object' || m === null || Array.isArray(m)) return { json: goJson(event) }
  const text = goJson({ ...(event as object), m: { ...m, pos: placeholder } })
  const at = text.indexOf(`"${placeholder}"`)
  return { json: text.slice(0, at), tail: text.slice(at + placeholder.length + 2) }
}

/** `events` in runs of at most {@link RedisScriptLimits}, in order. */
function chunked(events: readonly Encoded[]): Encoded[][] {
  const chunks: Encoded[][] = []
  let current: Encoded[] = []
  let bytes = 0
  for (const event of events) {
    const size = event.json.length + (event.tail?.length ?? 0)
    if (current.length > 0 && (current.length >= RedisScriptLimits.maxEvents || bytes + size > RedisScriptLimits.maxBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(event)
    bytes += size
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** The Lua commands defined on the command connection. */
interface Scripts {
  fatesPublish(numberOfKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  fatesCountRequest(key: string, cost: number, windowMs: number): Promise<unknown>
}
