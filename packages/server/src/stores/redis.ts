import { Redis } from 'ioredis'
import type { IdentityKind } from '../identify/parse.js'
import { silentLogger, type Logger } from '../log.js'
import { goJson } from '../wire/encode.js'
import { GlobalChannel, type EventListener, type EventsById, type Store, type TokenLookup, type Unsubscribe } from './store.js'

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
}

// Appends one event to the channel's stored map (hash field `ws`, a JSON object keyed by eid)
// and publishes it, atomically, so that instances sharing Redis never lose each other's
// events. The JSON is spliced as text: decoding it with cjson would round numbers (snowflakes
// sent as numbers) and lose the producer's bytes.
const AppendEventScript = `
local current = redis.call('HGET', KEYS[1], 'ws')
local entry = ARGV[1] .. ':' .. ARGV[2]
local updated = '{' .. entry .. '}'
if current then
  local body = string.match(current, '^%s*{%s*(.-)%s*}%s*$')
  if body == nil then
    return redis.error_reply('stored events of ' .. KEYS[1] .. ' are not a JSON object')
  end
  if body ~= '' then updated = '{' .. body .. ',' .. entry .. '}' end
end
redis.call('HSET', KEYS[1], 'ws', updated)
redis.call('PUBLISH', KEYS[1], '{' .. entry .. '}')
return 1
`

// INCRBY, and an expiry only when the counter has none: the window is fixed at creation, as
// the original's `wsrl-*` keys were, and a crash between the two cannot leave a counter that
// never expires.
const CountRequestScript = `
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return value
`

/** `host:port` of a Redis or PostgreSQL URL, for log lines that must not carry a password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return '(unparsable URL)'
  }
}

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
 * A {@link Store} in Redis with the original's keys, so that it can replace the original in
 * an existing deployment and several instances can serve one audience:
 * live events on the pub/sub channels `bot-<id>`, `server-<id>` and `global` as
 * `{"<eid>": event}`; stored events in the hash field `ws` of the channel's key (and, for
 * reading, the plain string key `global` the original read); ratelimit counters
 * `wsrl-<id>-bot` / `wsrl-<id>-server` with their expiry set at creation.
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
  #closing = false

  private constructor(options: RedisStoreOptions) {
    const { url, tokens, logger = silentLogger, commandTimeoutMs = 5_000 } = options
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
    this.#commands.defineCommand('fatesAppendEvent', { numberOfKeys: 1, lua: AppendEventScript })
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

  async publish(channel: string, eid: string, event: unknown): Promise<void> {
    await (this.#commands as unknown as Scripts).fatesAppendEvent(channel, JSON.stringify(eid), goJson(event))
  }

  async storedEvents(channel: string): Promise<EventsById> {
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
    // Every caller waits for the one SUBSCRIBE, so none is told "active" too early.
    await entry.ready
    entry.listeners.add(listener)
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

/** The Lua commands defined on the command connection. */
interface Scripts {
  fatesAppendEvent(key: string, eid: string, event: string): Promise<unknown>
  fatesCountRequest(key: string, cost: number, windowMs: number): Promise<unknown>
}
