import { either } from 'fp-ts'
import { CloseCode, CloseInfo, ControlCode, ControlDetail, Protocol, RelayCloseInfo } from '@fates-rx/core/protocol'
import { parseIdentify, type IdentifyRequest } from '../identify/parse.js'
import { describe, silentLogger } from '../log.js'
import { sameSecret } from '../secret.js'
import { channelOf, GlobalChannel, rateKey, type IdentityKind } from '../stores/store.js'
import { encodeControl, encodeEvent, type EncodedEvent } from '../wire/encode.js'
import type { ProtocolConfig, ProtocolObserver } from './config.js'
import type { ChannelFanOut, ChannelMember } from './fan-out.js'
import { Outbox } from './outbox.js'
import type { SocketHandlers, ProtocolSocket, PeerInfo } from './socket.js'
import type { Viewer } from './viewers.js'
import type { ProtocolTimers, TimerHandle } from './timers.js'

/** Details the original sent that are not fixed texts of the shared protocol tables. */
export const ServerDetail = Object.freeze({
  /** `invalid_auth`: the original's database error for an unknown id or a wrong token. */
  noRows: 'no rows in result set',
})

/** The states a connection goes through, in order. */
export type ConnectionState = 'waiting' | 'identifying' | 'ready' | 'closing'

type Phase = ConnectionState | 'closed'

/** What a connection shares with the other connections of its server. */
export interface ConnectionContext {
  readonly config: ProtocolConfig
  readonly observer: ProtocolObserver
  readonly timers: ProtocolTimers
  readonly fanOut: ChannelFanOut
  /** The server's flush scheduler, handed to the connection's writer. */
  readonly flushSoon: (outbox: Outbox) => void
  /** Called once when the socket has closed and the connection let go of its channels. */
  readonly forget: (connection: Connection) => void
}

/** The reason text of every close code the server sends: the protocol's and a relay's. */
const CloseReasons: Readonly<Record<number, { readonly reason: string } | undefined>> = Object.freeze({ ...CloseInfo, ...RelayCloseInfo })

/** A live event waiting while a connection's replay is being read. */
interface Held {
  readonly eid: string
  readonly event: EncodedEvent
}

/** `m.ts` of a stored event, for ordering a replay; events without one go first. */
function tsOf(event: unknown): number {
  const ts = (event as { m?: { ts?: unknown } } | null)?.m?.ts
  return typeof ts === 'number' ? ts : Number.NEGATIVE_INFINITY
}

/**
 * One client's side of the protocol over a {@link ProtocolSocket}: the identity prompt and the
 * identify timeout, the handshake (token, ratelimit, channels), the `send_all` replay with
 * `done_prior`, live events, later messages' ratelimit, pings and the dead-peer timeout.
 */
export class Connection implements SocketHandlers, ChannelMember, Viewer {
  readonly #context: ConnectionContext
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
  /** Relay mode: this connection's own ratelimit counter (the per-id one is the upstream's). */
  #requests = 0
  /** Relay mode: the ratelimit budget last reported to the viewer. */
  #remaining: number = Protocol.unidentifiedRequestsRemaining
  /** Relay mode: told the gate this viewer joined, so it must be told it left. */
  #viewing = false
  #markDone!: () => void
  /** Settles once the socket has closed. */
  readonly done = new Promise<void>((resolve) => {
    this.#markDone = resolve
  })

  /** Greets the client at once; `name` labels its log lines. */
  constructor(context: ConnectionContext, socket: ProtocolSocket, peer: PeerInfo, name: string) {
    const { config, timers } = context
    const { logger } = config
    this.#context = context
    this.#socket = socket
    this.#name = name
    this.#outbox = new Outbox(socket, config.outbox, context.flushSoon, () => {
      logger.info(`${this.#name} cannot keep up (over ${config.outbox.maxQueuedEvents} events queued)`)
      this.#close(CloseCode.InternalError)
    })
    if (logger !== silentLogger) logger.info(`${this.#name} open from ${peer.remote}`)
    this.#outbox.control(
      encodeControl(ControlCode.Identity, ControlDetail.identity, Protocol.unidentifiedRequestsRemaining, config.now()),
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

  /** A message from the client. */
  message(data: string | Uint8Array): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    this.#deadTimer.refresh()
    // Messages are handled one at a time, in order, as the original's read loop did.
    this.#work = this.#work
      .then(() => this.#handle(data))
      .catch((error: unknown) => {
        this.#context.config.logger.error(`${this.#name} store failed: ${describe(error)}`)
        this.#context.observer.storeFailed?.()
        this.#close(CloseCode.InternalError)
      })
  }

  /** A pong from the client: it is alive. */
  pong(): void {
    this.#deadTimer.refresh()
  }

  /** The socket closed: stop every timer, leave every channel, tell the server. */
  closed(code: number): void {
    if (this.#phase === 'closed') return
    this.#phase = 'closed'
    this.#identifyTimer?.cancel()
    this.#donePriorTimer?.cancel()
    this.#pingTimer.cancel()
    this.#deadTimer.cancel()
    this.#outbox.discard()
    for (const channel of this.#joined) this.#context.fanOut.leave(channel, this)
    this.#joined = []
    if (this.#viewing && this.#identity !== undefined) {
      this.#viewing = false
      this.#context.config.viewers?.left(this.#identity.kind, this.#identity.id, this)
    }
    this.#context.forget(this)
    this.#context.observer.closed?.(code)
    this.#context.config.logger.info(`${this.#name} closed ${code}`)
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
      this.#context.observer.delivered?.(1)
    }
  }

  /** Relay mode: a control payload about the upstream, after `ready`. */
  tell(code: string, detail: string): void {
    if (this.#phase !== 'ready') return
    this.#outbox.control(encodeControl(code, detail, this.#remaining, this.#context.config.now()))
  }

  /** Relay mode: a control payload, then the close (the upstream failed for good). */
  refuse(code: string, detail: string, closeCode: number, reason: string): void {
    if (this.#phase !== 'ready' && this.#phase !== 'identifying') return
    this.#context.config.logger.info(`${this.#name} refused: ${code} → ${closeCode}`)
    this.#close(closeCode, encodeControl(code, detail, this.#remaining, this.#context.config.now()), reason)
  }

  /** Where the connection is in its life. */
  get state(): Phase {
    return this.#phase
  }

  /** Closes with `code` and its reason text, after the payload when one is given. */
  #close(code: number, payload?: string, reason?: string): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    this.#phase = 'closing'
    this.#outbox.flushControlsOnly()
    // The socket writes in order, so the payload always precedes the close frame (the
    // original raced them and lost the payload about a quarter of the time).
    if (payload !== undefined) this.#socket.send(payload, () => {})
    this.#socket.close(code, reason ?? CloseReasons[code]?.reason ?? '')
  }

  #reject(code: string, detail: string, remaining: number, closeCode: number): void {
    if (this.#phase === 'identifying') this.#context.observer.identified?.(code)
    this.#context.config.logger.info(`${this.#name} rejected: ${code} → ${closeCode}`)
    this.#close(closeCode, encodeControl(code, detail, remaining, this.#context.config.now()))
  }

  async #handle(data: string | Uint8Array): Promise<void> {
    if (this.#phase === 'waiting') return this.#identify(data)
    if (this.#phase !== 'ready' || this.#identity === undefined) return
    // Client messages beyond identify are "not implemented yet": they only cost budget.
    const { config } = this.#context
    const { kind, id } = this.#identity
    const count = await this.#count(kind, id, config.messageCost)
    this.#remaining = config.rateLimit - count
    if (count > config.rateLimit) {
      this.#reject(ControlCode.Ratelimited, ControlDetail.ratelimited(count), config.rateLimit - count, CloseCode.Ratelimited)
    }
  }

  async #identify(data: string | Uint8Array): Promise<void> {
    const { config, observer, timers, fanOut } = this.#context
    const { store, logger } = config
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
    const refusal = config.viewers?.admit(request.kind, request.id)
    if (refusal !== undefined) {
      observer.identified?.(refusal.code)
      return this.refuse(refusal.code, refusal.detail, refusal.closeCode, refusal.reason)
    }
    const count = await this.#count(request.kind, request.id, config.identifyCost)
    if (this.#phase !== 'identifying') return
    const remaining = config.rateLimit - count
    this.#remaining = remaining
    if (count > config.rateLimit) {
      return this.#reject(ControlCode.Ratelimited, ControlDetail.ratelimited(count), remaining, CloseCode.Ratelimited)
    }

    this.#identity = request
    const target = channelOf(request.kind, request.id)
    // Live events are held until `ready` (and the replay) are queued, so they come after.
    this.#held = []
    this.#joined = request.sendNone ? [] : [target, GlobalChannel]
    await Promise.all(this.#joined.map((channel) => fanOut.join(channel, this)))
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
    if (config.viewers !== undefined) {
      this.#viewing = true
      config.viewers.joined(request.kind, request.id, this)
    }
  }

  /**
   * Adds `cost` to the ratelimit counter and resolves to its value: the identity's shared
   * counter in the store, or in relay mode this connection's own (viewers never spend the
   * upstream's budget, and one viewer's reloads never lock out another).
   */
  async #count(kind: IdentityKind, id: string, cost: number): Promise<number> {
    const { config } = this.#context
    if (config.viewers !== undefined) return (this.#requests += cost)
    return config.store.countRequest(rateKey(kind, id), cost, config.rateWindowMs)
  }
}
