import { randomBytes } from 'node:crypto'
import type { Position } from '@fates-rx/core/protocol'
import {
  MemoryTokens,
  stampPosition,
  type EventToStore,
  type IdentityKind,
  type Credentials,
  type EventBatchListener,
  type EventListener,
  type LiveEvent,
  type EventsById,
  type Store,
  type TokenLookup,
  type Unsubscribe,
} from './store.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Bots that may identify. @default [] */
  readonly bots?: readonly Credentials[]
  /** Servers (guilds) that may identify. @default [] */
  readonly servers?: readonly Credentials[]
  /** Where tokens come from instead of `bots` and `servers` (e.g. PostgreSQL). */
  readonly tokens?: TokenLookup
  /**
   * How many events each channel keeps for `send_all` (its history); the first published go
   * first. The original kept every event forever in Redis; a process's memory cannot. A
   * repeated eid is recognized while it is in the history, so 0 also turns off idempotency.
   * @default 1000
   */
  readonly maxStoredPerChannel?: number
  /** The clock, for tests. @default Date.now */
  readonly now?: () => number
  /**
   * Stamp every stored event with its position in its channel (`m.pos`), so that a client can
   * resume exactly after the last one it got. `false`: events are kept as published, byte for
   * byte what the original server sent. @default true
   */
  readonly positions?: boolean
}

/** What `#store` answers for an eid the channel's history already holds. */
const REPEAT: unique symbol = Symbol('repeat')

interface Counter {
  value: number
  readonly expiresAt: number
}

/**
 * One channel's history: events by eid, and the eids in the order stored, for dropping the
 * oldest. The order is its own queue because taking a `Map`'s first key after many deletions
 * walks the deleted entries V8 leaves at its front until it rehashes: with a full history
 * every publish paid for that walk.
 */
interface History {
  readonly events: Map<string, unknown>
  order: string[]
  head: number
  /** How many events the channel has stored in this store's life: the last one's offset. */
  offset: number
}

/**
 * A {@link Store} in this process's memory: the default, for development, tests and the demo.
 * Publishing delivers synchronously to subscribers, so publish order is delivery order.
 */
export class MemoryStore implements Store {
  readonly #tokens: TokenLookup
  readonly #counters = new Map<string, Counter>()
  readonly #events = new Map<string, History>()
  readonly #listeners = new Map<string, Set<EventListener>>()
  readonly #batchListeners = new Map<string, Set<EventBatchListener>>()
  readonly #maxStored: number
  readonly #now: () => number
  /** This store's life: a restarted server is a new one, so its offsets start again from 1. */
  readonly #epoch: string | undefined

  /**
   * The position of `channel`'s newest stored event (offset 0 when none yet); absent when the
   * store stamps no positions (`positions: false`).
   */
  readonly headOf?: (channel: string) => Promise<Position | undefined>

  constructor(options: MemoryStoreOptions = {}) {
    const { bots = [], servers = [], tokens, maxStoredPerChannel = 1000, now = Date.now, positions = true } = options
    if (!Number.isInteger(maxStoredPerChannel) || maxStoredPerChannel < 0) {
      throw new RangeError(`maxStoredPerChannel must be a whole number ≥ 0, got ${maxStoredPerChannel}`)
    }
    this.#tokens = tokens ?? new MemoryTokens(bots, servers)
    this.#maxStored = maxStoredPerChannel
    this.#now = now
    // Without a history nothing is stored, so nothing has a position to resume from.
    if (positions && maxStoredPerChannel > 0) {
      const epoch = (this.#epoch = randomBytes(6).toString('hex'))
      this.headOf = async (channel) => ({ epoch, offset: this.#events.get(channel)?.offset ?? 0 })
    }
  }

  tokenOf(kind: IdentityKind, id: string): Promise<string | undefined> {
    return this.#tokens.tokenOf(kind, id)
  }

  async countRequest(key: string, cost: number, windowMs: number): Promise<number> {
    const now = this.#now()
    this.#sweepCounters(now)
    const counter = this.#counters.get(key)
    if (counter === undefined || counter.expiresAt <= now) {
      // Deleted first so that the map's order stays creation order, which is expiry order.
      this.#counters.delete(key)
      this.#counters.set(key, { value: cost, expiresAt: now + windowMs })
      return cost
    }
    counter.value += cost
    return counter.value
  }

  // Synchronous up to the listeners so that publish order is delivery order even when callers
  // do not await each publish.
  publish(channel: string, eid: string, event: unknown, live = true): Promise<boolean> {
    const stored = this.#store(channel, eid, event)
    if (stored === REPEAT) return Promise.resolve(false)
    if (live) {
      this.#deliver(channel, eid, stored)
      this.#batchListeners.get(channel)?.forEach((listener) => listener(channel, [{ eid, event: stored }]))
    }
    return Promise.resolve(true)
  }

  // Each consecutive run of a batch on one channel goes to a batch listener in one call; a
  // plain listener still gets each event as it is stored. Either way, in publish order.
  publishMany(events: readonly EventToStore[]): Promise<boolean[]> {
    const flags: boolean[] = new Array<boolean>(events.length)
    let run: LiveEvent[] = []
    let runChannel = ''
    for (let index = 0; index < events.length; index++) {
      const { channel, eid, event, live = true } = events[index] as EventToStore
      const stored = this.#store(channel, eid, event)
      flags[index] = stored !== REPEAT
      if (stored === REPEAT || !live) continue
      this.#deliver(channel, eid, stored)
      if (channel !== runChannel) {
        this.#deliverRun(runChannel, run)
        run = []
        runChannel = channel
      }
      run.push({ eid, event: stored })
    }
    this.#deliverRun(runChannel, run)
    return Promise.resolve(flags)
  }

  /**
   * Stores an event in its channel's history, stamped with its position when the store keeps
   * them; returns what was stored (and is to be delivered), or `REPEAT` for an eid the history holds.
   */
  #store(channel: string, eid: string, event: unknown): unknown {
    if (this.#maxStored === 0) return event
    let history = this.#events.get(channel)
    if (history === undefined) this.#events.set(channel, (history = { events: new Map(), order: [], head: 0, offset: 0 }))
    const { events } = history
    // The eid is the idempotency key: a producer's retry is neither stored nor delivered.
    if (events.has(eid)) return REPEAT
    if (this.#epoch !== undefined) event = stampPosition(event, { epoch: this.#epoch, offset: ++history.offset })
    events.set(eid, event)
    history.order.push(eid)
    if (events.size > this.#maxStored) {
      events.delete(history.order[history.head++] as string)
      // Let go of the dropped prefix now and then, not on every publish.
      if (history.head >= this.#maxStored) {
        history.order = history.order.slice(history.head)
        history.head = 0
      }
    }
    return event
  }

  /** Hands one event to the channel's plain listeners. */
  #deliver(channel: string, eid: string, event: unknown): void {
    const listeners = this.#listeners.get(channel)
    if (listeners === undefined) return
    // Built only for plain listeners: an object keyed by a UUID is costly to make.
    const message: EventsById = { [eid]: event }
    for (const listener of listeners) listener(channel, message)
  }

  #deliverRun(channel: string, run: readonly LiveEvent[]): void {
    if (run.length === 0) return
    const listeners = this.#batchListeners.get(channel)
    if (listeners !== undefined) for (const listener of listeners) listener(channel, run)
  }

  async storedEvents(channel: string): Promise<EventsById> {
    return Object.fromEntries(this.#events.get(channel)?.events ?? [])
  }

  subscribe(channel: string, listener: EventListener): Promise<Unsubscribe> {
    return Promise.resolve(this.#listen(this.#listeners, channel, listener))
  }

  subscribeBatches(channel: string, listener: EventBatchListener): Promise<Unsubscribe> {
    return Promise.resolve(this.#listen(this.#batchListeners, channel, listener))
  }

  #listen<L>(all: Map<string, Set<L>>, channel: string, listener: L): Unsubscribe {
    let listeners = all.get(channel)
    if (listeners === undefined) all.set(channel, (listeners = new Set()))
    listeners.add(listener)
    return async () => {
      listeners.delete(listener)
      if (listeners.size === 0 && all.get(channel) === listeners) all.delete(channel)
    }
  }

  /** How many ratelimit counters are held, expired ones not yet dropped included. */
  get counters(): number {
    return this.#counters.size
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.#listeners.clear()
    this.#batchListeners.clear()
  }

  // Expired counters would otherwise accumulate, one per identity ever seen. Every window has
  // the same length, so the map (in creation order) is in expiry order: drop expired counters
  // from its front and stop at the first live one. Each counter is dropped once, so the sweep
  // costs nothing per identify beyond the counters that expired.
  #sweepCounters(now: number): void {
    for (const [key, counter] of this.#counters) {
      if (counter.expiresAt > now) return
      this.#counters.delete(key)
    }
  }
}
