import { either } from 'fp-ts'
import { CloseCode, CloseInfo, ControlCode, ControlDetail, Protocol } from '@fates-rx/core/protocol'
import { parseIdentify, type IdentifyRequest } from './identify/parse.js'
import { silentLogger, type Logger } from './log.js'
import { Outbox, type OutboxLimits } from './outbox.js'
import { normalizePublish, PublishError } from './publish.js'
import { sameSecret } from './secret.js'
import { NodeTimers, type ProtocolTimers, type TimerHandle } from './timers.js'
import type { PeerInfo, ProtocolSocket, SocketHandlers } from './socket.js'
import {
  channelOf,
  GlobalChannel,
  rateKey,
  StoreOutcomeUnknown,
  type EventsById,
  type EventToStore,
  type Store,
  type Unsubscribe,
} from './stores/store.js'
import { encodeControl, encodeEvent, type EncodedEvent } from './wire/encode.js'

/** Details the original sent that are not fixed texts of the shared protocol tables. */
export const ServerDetail = Object.freeze({
  /** `invalid_auth`: the original's database error for an unknown id or a wrong token. */
  noRows: 'no rows in result set',
})

/** Everything the protocol logic needs; `startServer` fills it from its options. */
export interface ProtocolConfig {
  readonly store: Store
  readonly logger: Logger
  /** The highest ratelimit counter value allowed. */
  readonly rateLimit: number
  /** The ratelimit window, fixed when a counter is created (milliseconds). */
  readonly rateWindowMs: number
  /** What an identify costs. */
  readonly identifyCost: number
  /** What every later client message costs. */
  readonly messageCost: number
  /** Close with 4000 when no identify arrived within this time (milliseconds; 0 = never). */
  readonly identifyTimeoutMs: number
  /** How often to ping (milliseconds). */
  readonly pingIntervalMs: number
  /** Drop a peer after this long without a pong or message (milliseconds). */
  readonly pongTimeoutMs: number
  /** Delay between the `send_all` replay and `done_prior` (milliseconds). */
  readonly donePriorDelayMs: number
  /** Per-connection writer limits. */
  readonly outbox: OutboxLimits
  /** The clock. */
  readonly now: () => number
  /** Told what happens, for metrics. @default nothing is told */
  readonly observer?: ProtocolObserver
  /** Where timeouts, intervals and the writer's flush are scheduled. @default NodeTimers */
  readonly timers?: ProtocolTimers
}

/** The states a connection goes through, in order. */
export type ConnectionState = 'waiting' | 'identifying' | 'ready' | 'closing'

/**
 * What the protocol logic reports as it runs, for metrics (`GET /metrics` counts with it).
 * Every method is optional and must not throw.
 */
export interface ProtocolObserver {
  /** An identify ended: `ready`, or the control code it was refused with. */
  identified?(outcome: string): void
  /** A connection closed with `code`. */
  closed?(code: number): void
  /** `count` events were queued for one connection (live or replayed). */
  delivered?(count: number): void
  /** A publish finished: how many events were stored, how many were repeats, in what time. */
  published?(stored: number, repeats: number, seconds: number): void
  /** The store failed (a connection got 4500, or a publish failed). */
  storeFailed?(): void
}

/** The protocol logic of a server, independent of any websocket library. */
export interface FatesServer {
  /** Starts the protocol on a freshly opened socket; the adapter reports its events back. */
  opened(socket: ProtocolSocket, peer: PeerInfo): SocketHandlers
  /**
   * Stores and delivers an event, like the original's producer: `m.eid` and `m.ts` are filled
   * in when missing. Resolves to the event ID; rejects with {@link PublishError} for a bad
   * channel or event.
   */
  publish(channel: string, event: unknown): Promise<string>
  /**
   * Stores and delivers several events, in order: all are checked first, and one bad event
   * refuses the whole batch with a {@link PublishError} naming its index. Resolves to each
   * event's eid and whether it was a repeat (an eid the history already held: neither stored
   * nor delivered again).
   */
  publishMany(requests: readonly PublishRequest[]): Promise<PublishOutcome[]>
  /** Closes every connection with `code` (1001 by default) and resolves once all are closed. */
  closeAll(code?: number, graceMs?: number): Promise<void>
  /** Open connections. */
  readonly connections: number
  /** Open connections by state. */
  connectionStates(): Record<ConnectionState, number>
}

/** One event to publish: where, and what. */
export interface PublishRequest {
  /** `bot-<id>`, `server-<id>` or `global`. */
  readonly channel: unknown
  /** The event, `{ m, ctx }`. */
  readonly event: unknown
}

/** What became of one published event. */
export interface PublishOutcome {
  /** Its event ID (given, or generated). */
  readonly eid: string
  /** True when the history already held this eid: nothing was stored or delivered. */
  readonly repeat: boolean
}

/** `m.ts` of a stored event, for ordering a replay; events without one go first. */
function tsOf(event: unknown): number {
  const ts = (event as { m?: { ts?: unknown } } | null)?.m?.ts
  return typeof ts === 'number' ? ts : Number.NEGATIVE_INFINITY
}

type Phase = ConnectionState | 'closed'

/** A live event waiting while a connection's replay is being read. */
interface Held {
  readonly eid: string
  readonly event: EncodedEvent
}

/**
 * Builds the protocol logic: handshake, ratelimits, replay, live fan-out and the batching
 * writer, over {@link ProtocolSocket}s.
 */
export function makeServer(config: ProtocolConfig): FatesServer {
  const { store, logger } = config
  const observer = config.observer ?? {}
  const timers = config.timers ?? NodeTimers
  const connections = new Set<Connection>()
  let nextConnection = 1

  // One flush per turn of the event loop for every connection with something queued: events
  // published in the same turn share a frame, and each event is serialized once.
  const dirty = new Set<Outbox>()
  let flushScheduled = false
  const flushAll = (): void => {
    flushScheduled = false
    const outboxes = [...dirty]
    dirty.clear()
    for (const outbox of outboxes) outbox.flush()
  }
  const flushSoon = (outbox: Outbox): void => {
    dirty.add(outbox)
    if (!flushScheduled) {
      flushScheduled = true
      timers.soon(flushAll)
    }
  }

  // Local fan-out: one store subscription per channel, however many connections want it.
  interface ChannelEntry {
    readonly members: Set<Connection>
    readonly subscription: Promise<Unsubscribe>
  }
  const channels = new Map<string, ChannelEntry>()
  const deliver = (channel: string, events: EventsById): void => {
    const entry = channels.get(channel)
    if (entry === undefined) return
    for (const [eid, event] of Object.entries(events)) {
      const encoded = encodeEvent(channel, event)
      for (const member of entry.members) member.live(eid, encoded)
    }
  }
  const join = async (channel: string, connection: Connection): Promise<void> => {
    let entry = channels.get(channel)
    if (entry === undefined) {
      // A listener of its own per subscription: were `deliver` itself passed, a leave and a
      // join in the same turn would share one listener, and the leave's unsubscribe would
      // silently remove the join's.
      const subscription = store.subscribe(channel, (from, events) => deliver(from, events))
      entry = { members: new Set(), subscription }
      channels.set(channel, entry)
      const created = entry
      subscription.catch(() => {
        if (channels.get(channel) === created) channels.delete(channel)
      })
    }
    entry.members.add(connection)
    await entry.subscription
  }
  const leave = (channel: string, connection: Connection): void => {
    const entry = channels.get(channel)
    if (entry === undefined || !entry.members.delete(connection) || entry.members.size > 0) return
    channels.delete(channel)
    entry.subscription
      .then((unsubscribe) => unsubscribe())
      .catch((error: unknown) => logger.error(`unsubscribe ${channel}: ${describe(error)}`))
  }

  class Connection implements SocketHandlers {
    readonly #socket: ProtocolSocket
    readonly #name: string
    readonly #outbox: Outbox
    #phase: Phase = 'waiting'
    #work: Promise<void> = Promise.resolve()
    #identity: IdentifyRequest | undefined
    #joined: string[] = []
    #held: Held[] | undefined
    #identifyTimer: TimerHandle | undefined
    #pingTimer: TimerHandle
    #deadTimer: TimerHandle
    #donePriorTimer: TimerHandle | undefined
    #markDone!: () => void
    /** Settles once the socket has closed. */
    readonly done = new Promise<void>((resolve) => {
      this.#markDone = resolve
    })

    constructor(socket: ProtocolSocket, peer: PeerInfo) {
      this.#socket = socket
      this.#name = `#${nextConnection++}`
      this.#outbox = new Outbox(socket, config.outbox, flushSoon, () => {
        logger.info(`${this.#name} cannot keep up (over ${config.outbox.maxQueuedEvents} events queued)`)
        this.#close(CloseCode.InternalError)
      })
      if (logger !== silentLogger) logger.info(`${this.#name} open from ${peer.remote}`)
      this.#outbox.control(
        encodeControl(
          ControlCode.Identity,
          ControlDetail.identity,
          Protocol.unidentifiedRequestsRemaining,
          config.now(),
        ),
      )
      if (config.identifyTimeoutMs > 0) {
        this.#identifyTimer = timers.after(config.identifyTimeoutMs, () => {
          if (this.#phase !== 'waiting') return
          logger.info(`${this.#name} did not identify within ${config.identifyTimeoutMs} ms`)
          this.#close(CloseCode.InvalidConnection)
        })
      }
      this.#pingTimer = timers.every(config.pingIntervalMs, () => this.#socket.ping())
      this.#deadTimer = timers.after(config.pongTimeoutMs, () => {
        logger.info(`${this.#name} silent for ${config.pongTimeoutMs} ms: dropped`)
        this.#socket.terminate()
      })
    }

    message(data: string | Uint8Array): void {
      if (this.#phase === 'closing' || this.#phase === 'closed') return
      this.#deadTimer.refresh()
      // Messages are handled one at a time, in order, as the original's read loop did.
      this.#work = this.#work
        .then(() => this.#handle(data))
        .catch((error: unknown) => {
          logger.error(`${this.#name} store failed: ${describe(error)}`)
          observer.storeFailed?.()
          this.#close(CloseCode.InternalError)
        })
    }

    pong(): void {
      this.#deadTimer.refresh()
    }

    closed(code: number): void {
      if (this.#phase === 'closed') return
      this.#phase = 'closed'
      this.#identifyTimer?.cancel()
      this.#donePriorTimer?.cancel()
      this.#pingTimer.cancel()
      this.#deadTimer.cancel()
      this.#outbox.discard()
      for (const channel of this.#joined) leave(channel, this)
      this.#joined = []
      connections.delete(this)
      observer.closed?.(code)
      logger.info(`${this.#name} closed ${code}`)
      this.#markDone()
    }

    /** Closes an identifying or identified connection whose live events may have been lost. */
    interrupt(): void {
      if (this.#phase === 'identifying' || this.#phase === 'ready') this.#close(CloseCode.InternalError)
    }

    /** Closes at server shutdown. */
    shutdown(code: number): void {
      this.#close(code)
    }

    /** Drops the socket without a close frame (shutdown grace ran out). */
    terminate(): void {
      this.#socket.terminate()
    }

    /** A live event on a channel this connection joined. */
    live(eid: string, event: EncodedEvent): void {
      if (this.#held !== undefined) this.#held.push({ eid, event })
      else if (this.#phase === 'ready') {
        this.#outbox.event(event)
        observer.delivered?.(1)
      }
    }

    /** Where the connection is in its life. */
    get state(): Phase {
      return this.#phase
    }

    /** Closes with `code` and its reason text, after the payload when one is given. */
    #close(code: number, payload?: string): void {
      if (this.#phase === 'closing' || this.#phase === 'closed') return
      this.#phase = 'closing'
      this.#outbox.flushControlsOnly()
      // The socket writes in order, so the payload always precedes the close frame (the
      // original raced them and lost the payload about a quarter of the time).
      if (payload !== undefined) this.#socket.send(payload, () => {})
      const reason = (CloseInfo as Readonly<Record<number, { reason: string } | undefined>>)[code]?.reason ?? ''
      this.#socket.close(code, reason)
    }

    #reject(code: string, detail: string, remaining: number, closeCode: number): void {
      if (this.#phase === 'identifying') observer.identified?.(code)
      logger.info(`${this.#name} rejected: ${code} → ${closeCode}`)
      this.#close(closeCode, encodeControl(code, detail, remaining, config.now()))
    }

    async #handle(data: string | Uint8Array): Promise<void> {
      if (this.#phase === 'waiting') return this.#identify(data)
      if (this.#phase !== 'ready' || this.#identity === undefined) return
      // Client messages beyond identify are "not implemented yet": they only cost budget.
      const { kind, id } = this.#identity
      const count = await store.countRequest(rateKey(kind, id), config.messageCost, config.rateWindowMs)
      if (count > config.rateLimit) {
        this.#reject(ControlCode.Ratelimited, ControlDetail.ratelimited(count), config.rateLimit - count, CloseCode.Ratelimited)
      }
    }

    async #identify(data: string | Uint8Array): Promise<void> {
      this.#phase = 'identifying'
      this.#identifyTimer?.cancel()
      const parsed = parseIdentify(data)
      if (either.isLeft(parsed)) {
        return this.#reject(ControlCode.InvalidPayload, parsed.left, Protocol.unidentifiedRequestsRemaining, CloseCode.InvalidAuthentication)
      }
      const request = parsed.right
      const token = await store.tokenOf(request.kind, request.id)
      if (this.#phase !== 'identifying') return
      if (!sameSecret(token, request.token)) {
        return this.#reject(ControlCode.InvalidAuth, ServerDetail.noRows, Protocol.unidentifiedRequestsRemaining, CloseCode.InvalidAuthentication)
      }
      const count = await store.countRequest(rateKey(request.kind, request.id), config.identifyCost, config.rateWindowMs)
      if (this.#phase !== 'identifying') return
      const remaining = config.rateLimit - count
      if (count > config.rateLimit) {
        return this.#reject(ControlCode.Ratelimited, ControlDetail.ratelimited(count), remaining, CloseCode.Ratelimited)
      }

      this.#identity = request
      const target = channelOf(request.kind, request.id)
      // Live events are held until `ready` (and the replay) are queued, so they come after.
      this.#held = []
      this.#joined = request.sendNone ? [] : [target, GlobalChannel]
      await Promise.all(this.#joined.map((channel) => join(channel, this)))
      const prior = request.sendAll
        ? await Promise.all([store.storedEvents(target), store.storedEvents(GlobalChannel)])
        : undefined
      if (this.#phase !== 'identifying') return
      this.#phase = 'ready'
      logger.info(
        `${this.#name} identified as ${request.kind} ${request.id}${request.sendAll ? ' (send_all)' : ''}${request.sendNone ? ' (send_none)' : ''}, ${remaining} requests remaining`,
      )
      observer.identified?.(ControlCode.Ready)
      this.#outbox.control(encodeControl(ControlCode.Ready, ControlDetail.ready(count), remaining, config.now()))
      const replayed = new Set<string>()
      if (prior !== undefined) {
        const texts: EncodedEvent[] = []
        for (const [channel, events] of [[target, prior[0]], [GlobalChannel, prior[1]]] as const) {
          // A store keys events by eid in no useful order: replay each channel in m.ts order.
          const ordered = Object.entries(events).sort(([, a], [, b]) => tsOf(a) - tsOf(b))
          for (const [eid, event] of ordered) {
            replayed.add(eid)
            texts.push(encodeEvent(channel, event))
          }
        }
        if (texts.length > 0) {
          this.#outbox.events(texts)
          observer.delivered?.(texts.length)
        }
        this.#donePriorTimer = timers.after(config.donePriorDelayMs, () => {
          if (this.#phase !== 'ready') return
          this.#outbox.control(encodeControl(ControlCode.DonePrior, ControlDetail.donePrior, remaining, config.now()))
        })
      }
      const held = this.#held
      this.#held = undefined
      for (const { eid, event } of held) {
        if (replayed.has(eid)) continue
        this.#outbox.event(event)
        observer.delivered?.(1)
      }
    }
  }

  store.onInterrupted?.((error) => {
    logger.error(`${describe(error)}: closing identified connections with 4500 so that clients reconnect`)
    for (const connection of connections) connection.interrupt()
  })

  const publishMany = async (requests: readonly PublishRequest[]): Promise<PublishOutcome[]> => {
    const events: EventToStore[] = []
    for (const [index, { channel, event }] of requests.entries()) {
      const normalized = normalizePublish(channel, event, config.now)
      if (either.isLeft(normalized)) throw new PublishError(normalized.left, index)
      events.push({ channel: channel as string, eid: normalized.right.eid, event: normalized.right.event })
    }
    let stored: readonly boolean[]
    const started = performance.now()
    try {
      if (store.publishMany !== undefined) {
        stored = await store.publishMany(events)
      } else {
        const flags: boolean[] = []
        for (const { channel, eid, event } of events) {
          try {
            flags.push(await store.publish(channel, eid, event))
          } catch (error) {
            // One by one is not all or none: once some are stored, a plain error would lie.
            if (flags.length === 0) throw error
            throw new StoreOutcomeUnknown(`the store failed after ${flags.length} of ${events.length} events`)
          }
        }
        stored = flags
      }
    } catch (error) {
      observer.storeFailed?.()
      if (error instanceof StoreOutcomeUnknown) throw new StoreOutcomeUnknown(error.message, events.map((e) => e.eid))
      throw error
    }
    const repeats = stored.filter((flag) => !flag).length
    observer.published?.(events.length - repeats, repeats, (performance.now() - started) / 1000)
    return events.map(({ eid }, index) => ({ eid, repeat: stored[index] !== true }))
  }

  return {
    opened(socket, peer) {
      const connection = new Connection(socket, peer)
      connections.add(connection)
      return connection
    },
    async publish(channel, event) {
      const [outcome] = await publishMany([{ channel, event }])
      return outcome!.eid
    },
    publishMany,
    async closeAll(code = CloseCode.GoingAway, graceMs = 2_000) {
      const open = [...connections]
      for (const c of open) c.shutdown(code)
      let grace: TimerHandle | undefined
      const expired = new Promise<void>((resolve) => {
        grace = timers.after(graceMs, resolve)
      })
      const closed = Promise.all(open.map((c) => c.done)).then(() => 'closed' as const)
      const outcome = await Promise.race([closed, expired.then(() => 'expired' as const)])
      grace?.cancel()
      if (outcome === 'expired') {
        for (const c of open) c.terminate()
        await closed
      }
    },
    get connections() {
      return connections.size
    },
    connectionStates() {
      const counts: Record<ConnectionState, number> = { waiting: 0, identifying: 0, ready: 0, closing: 0 }
      for (const connection of connections) {
        const state = connection.state
        if (state !== 'closed') counts[state]++
      }
      return counts
    },
  }
}

/** An error as one log line, without its stack. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
