import { describe, silentLogger } from '../log.js'
import type { EncodedEvent } from '../wire/encode.js'
import { encodeControl } from '../wire/encode.js'
import type { ProtocolConfig, ProtocolObserver } from './config.js'
import {
  configuredRules,
  open,
  step,
  type ConnectionEffect,
  type ConnectionInput,
  type ConnectionMachineState,
  type ConnectionPhase,
  type ConnectionRules,
  type ConnectionTimer,
  type ControlPayload,
} from './connection-machine.js'
import type { ChannelFanOut, ChannelMember } from './fan-out.js'
import { Outbox } from './outbox.js'
import type { SocketHandlers, ProtocolSocket, PeerInfo } from './socket.js'
import type { Viewer } from './viewers.js'
import type { ProtocolTimers, TimerHandle } from './timers.js'

export { ServerDetail } from '../wire/details.js'

/** The states an open connection goes through, in order (closed connections are forgotten). */
export type ConnectionState = 'waiting' | 'identifying' | 'ready' | 'closing'

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

/** The machine's rules from the protocol config. */
export function connectionRules(config: ProtocolConfig): ConnectionRules {
  return Object.freeze({
    ...configuredRules(config),
    relay: config.viewers !== undefined,
    // A store that stamps positions can say where a resume starts; without, `after` is ignored.
    positions: config.store.headOf !== undefined,
  })
}

/** A live event held while a connection's replay is being read. */
interface HeldLiveEvent {
  readonly eid: string
  readonly event: EncodedEvent
}

/**
 * One client's side of the protocol over a {@link ProtocolSocket}: the interpreter of the
 * connection machine (`connection-machine.ts`), which decides everything. This class feeds it
 * socket events, store answers, relay calls and timers, one input at a time, and performs the
 * effects of each step after it (never in the middle of one).
 */
export class Connection implements SocketHandlers, ChannelMember, Viewer {
  readonly #context: ConnectionContext
  readonly #rules: ConnectionRules
  readonly #socket: ProtocolSocket
  readonly #name: string
  readonly #outbox: Outbox
  readonly #timers = new Map<ConnectionTimer, TimerHandle>()
  readonly #inputs: ConnectionInput[] = []
  #running = false
  #state: ConnectionMachineState
  #held: HeldLiveEvent[] = []
  #markDone!: () => void
  /** Settles once the socket has closed. */
  readonly done = new Promise<void>((resolve) => {
    this.#markDone = resolve
  })

  /** Greets the client at once; `name` labels its log lines. */
  constructor(context: ConnectionContext, socket: ProtocolSocket, peer: PeerInfo, name: string, rules = connectionRules(context.config)) {
    const { config } = context
    this.#context = context
    this.#rules = rules
    this.#socket = socket
    this.#name = name
    this.#outbox = new Outbox(socket, config.outbox, context.flushSoon, (overflow) => this.#dispatch({ type: 'overflow', overflow }))
    // The open line is the user's logger too: one that throws costs this connection, as it
    // does from an effect, and must not escape into ws's connection listener.
    let failed: { readonly error: unknown } | undefined
    try {
      if (config.logger !== silentLogger) config.logger.info(`${name} open from ${peer.remote}`)
    } catch (error) {
      failed = { error }
    }
    const first = open(rules)
    this.#state = first.state
    const performed = this.#perform(first.effects)
    failed ??= performed
    if (failed !== undefined) this.#fault(failed.error)
  }

  /** A message from the client. */
  message(data: string | Uint8Array): void {
    this.#dispatch({ type: 'message', data })
  }

  /** A pong from the client: it is alive. */
  pong(): void {
    this.#dispatch({ type: 'pong' })
  }

  /** The socket closed: stop every timer, leave every channel, tell the server. */
  closed(code: number): void {
    this.#dispatch({ type: 'socket-closed', code })
  }

  /** Closes an identifying or identified connection whose live events may have been lost. */
  interrupt(): void {
    this.#dispatch({ type: 'interrupt' })
  }

  /** Closes at server shutdown. */
  shutdown(code: number): void {
    this.#dispatch({ type: 'shutdown', code })
  }

  /** Drops the socket without a close frame (shutdown grace ran out). */
  terminate(): void {
    this.#dispatch({ type: 'terminate' })
  }

  /** A live event on a channel this connection joined. */
  live(eid: string, event: EncodedEvent): void {
    this.#dispatch({ type: 'live', eid, event })
  }

  /** Relay mode: a control payload about the upstream, after `ready`. */
  tell(code: string, detail: string): void {
    this.#dispatch({ type: 'tell', code, detail })
  }

  /** Relay mode: a control payload, then the close (the upstream failed for good). */
  refuse(code: string, detail: string, closeCode: number, reason: string): void {
    this.#dispatch({ type: 'refuse', refusal: { code, detail, closeCode, reason } })
  }

  /** Relay mode: the gate lets this held viewer identify. */
  admitted(): void {
    this.#dispatch({ type: 'admission', refusal: undefined })
  }

  /** Where the connection is in its life. */
  get state(): ConnectionPhase {
    return this.#state.phase
  }

  /**
   * Steps the machine with `input` and performs the effects; an input that arrives while
   * effects run (a relay answering at once, a writer overflowing) waits for them to finish.
   */
  #dispatch(input: ConnectionInput): void {
    if (this.#running) {
      this.#inputs.push(input)
      return
    }
    this.#running = true
    try {
      for (let next: ConnectionInput | undefined = input; next !== undefined; next = this.#inputs.shift()) {
        let failed: { readonly error: unknown } | undefined
        try {
          const result = step(this.#state, next, this.#rules)
          this.#state = result.state
          failed = this.#perform(result.effects)
        } catch (error) {
          failed = { error }
        }
        if (failed !== undefined) this.#fault(failed.error, next.type === 'socket-closed' ? next.code : undefined)
      }
    } finally {
      this.#running = false
    }
  }

  /**
   * What the machine threw on, or an effect threw from (a logger or an observer of the
   * server's user, a relay's gate), costs this connection and not the process: thrown out of
   * here it would reach ws's listener, a timer or a store's promise, and end the process. The
   * machine closes the connection (4500), or lets go of it if its socket is gone; if it throws
   * on that too, the connection is dropped without it. Logged by the exception's kind only: a
   * message may quote the input, token included.
   */
  #fault(error: unknown, closed?: number): void {
    const kind = error instanceof Error ? error.name : typeof error
    try {
      const result = step(this.#state, { type: 'fault', error: kind, ...(closed === undefined ? {} : { closed }) }, this.#rules)
      this.#state = result.state
      if (this.#perform(result.effects) === undefined) return
    } catch {
      // Dropped below.
    }
    this.#abandon(kind)
  }

  /**
   * Lets go of everything this connection holds without its machine (which threw twice): the
   * socket, its timers, its channels and queue, its place in a relay's count of viewers, and
   * its place in the server's count.
   */
  #abandon(kind: string): void {
    // Let go of already: its close's effects ran (each on its own, `forget` included) and only
    // a line after them threw. Dropping it again would count its close twice (as a 1006 too).
    if (this.#state.phase === 'closed') return
    const { config, fanOut } = this.#context
    try {
      config.logger.error(`${this.#name} internal error, the connection is dropped: ${kind}`)
    } catch {
      // The logger may be what threw: the connection is let go of all the same.
    }
    for (const timer of this.#timers.values()) timer.cancel()
    this.#timers.clear()
    for (const channel of this.#state.joined) fanOut.leave(channel, this)
    // A relay's gate counts its viewers and held ones: it lets go of this one too.
    const { request, viewing, held } = this.#state
    if (request !== undefined && viewing) config.viewers?.left(request.kind, request.id, this)
    if (request !== undefined && held !== undefined) config.viewers?.unheld(request.kind, request.id, this, false)
    this.#held = []
    this.#outbox.discard()
    this.#socket.terminate()
    this.#state = { ...this.#state, phase: 'closed', joined: [], viewing: false, held: undefined }
    // Counted among the closes as a terminated socket's (its close, after, finds it closed).
    this.#context.observer.closed?.(1006)
    this.#context.forget(this)
    this.#markDone()
  }

  #control({ code, detail, remaining, channels }: ControlPayload): string {
    return encodeControl(code, detail, remaining, this.#context.config.now(), channels)
  }

  /** Runs a store call; its answer (or failure) comes back as an input. */
  #ask<T>(call: () => Promise<T>, answer: (value: T) => ConnectionInput): void {
    let answered: Promise<T>
    try {
      answered = call()
    } catch (error) {
      // A store that throws instead of rejecting fails the same way.
      answered = Promise.reject(error)
    }
    answered.then(
      (value) => this.#dispatch(answer(value)),
      (error: unknown) => this.#dispatch({ type: 'store-failed', error: describe(error) }),
    )
  }

  /**
   * Performs `effects` in order. One that throws does not stop the rest (the socket's close
   * still forgets the connection); the first exception is given back, for `#fault`.
   */
  #perform(effects: readonly ConnectionEffect[]): { readonly error: unknown } | undefined {
    let failed: { readonly error: unknown } | undefined
    for (const effect of effects) {
      try {
        this.#effect(effect)
      } catch (error) {
        failed ??= { error }
      }
    }
    return failed
  }

  #effect(effect: ConnectionEffect): void {
    const { config, observer, fanOut, timers } = this.#context
    switch (effect.type) {
      case 'send-control':
        this.#outbox.control(this.#control(effect))
        break
      case 'send-events':
        this.#outbox.events(effect.events)
        observer.delivered?.(effect.events.length)
        observer.replayed?.(effect.events.length)
        break
      case 'send-event':
        this.#outbox.event(effect.event)
        observer.delivered?.(1)
        break
      case 'hold':
        this.#held.push({ eid: effect.eid, event: effect.event })
        break
      case 'release': {
        const held = this.#held
        this.#held = []
        for (const { eid, event } of held) {
          if (effect.skip.has(eid)) continue
          this.#outbox.event(event)
          observer.delivered?.(1)
        }
        break
      }
      case 'close':
        this.#held = []
        try {
          this.#outbox.flushControlsOnly()
          // The socket writes in order, so the payload always precedes the close frame (the
          // original raced them and lost the payload about a quarter of the time).
          if (effect.control !== undefined) this.#socket.send(this.#control(effect.control), () => {})
        } finally {
          // Closed even when a write threw (a socket adapter's): the machine is `closing` now
          // and sends no second close, so the peer would otherwise hang on until the ping's timeout.
          this.#socket.close(effect.code, effect.reason)
        }
        break
      case 'terminate':
        this.#socket.terminate()
        break
      case 'ping':
        this.#socket.ping()
        break
      case 'arm': {
        const { timer } = effect
        this.#timers.get(timer)?.cancel()
        this.#timers.set(timer, timers.after(effect.ms, () => this.#dispatch({ type: 'timer', timer })))
        break
      }
      case 'cancel':
        this.#timers.get(effect.timer)?.cancel()
        this.#timers.delete(effect.timer)
        break
      case 'lookup-token':
        this.#ask(() => config.store.tokenOf(effect.kind, effect.id), (token) => ({ type: 'token', token }))
        break
      case 'admit': {
        const answer = config.viewers?.admit(effect.kind, effect.id)
        this.#dispatch(answer !== undefined && 'holdMs' in answer ? { type: 'admission-held', hold: answer } : { type: 'admission', refusal: answer })
        break
      }
      case 'count':
        this.#ask(() => config.store.countRequest(effect.key, effect.cost, effect.windowMs), (value) => ({ type: 'counted', value }))
        break
      case 'join':
        this.#ask(() => Promise.all(effect.channels.map((channel) => fanOut.join(channel, this))), () => ({ type: 'joined' }))
        break
      case 'read-history': {
        const { store } = config
        const { channels } = effect
        this.#ask(
          async () => {
            // Heads first: the events read after them hold at least every event up to them.
            const heads = effect.heads && store.headOf !== undefined ? await Promise.all(channels.map((channel) => store.headOf!(channel))) : undefined
            const events = await Promise.all(channels.map(async (channel) => [channel, await store.storedEvents(channel)] as const))
            const floors = heads === undefined || config.viewers?.floorOf === undefined ? undefined : channels.map((channel) => config.viewers!.floorOf!(channel))
            return { events, heads, floors }
          },
          ({ events, heads, floors }) => (heads === undefined ? { type: 'history', events } : { type: 'history', events, heads, ...(floors === undefined ? {} : { floors }) }),
        )
        break
      }
      case 'leave':
        for (const channel of effect.channels) fanOut.leave(channel, this)
        break
      case 'viewer':
        if (effect.joined) config.viewers?.joined(effect.kind, effect.id, this)
        else config.viewers?.left(effect.kind, effect.id, this)
        break
      case 'held':
        config.viewers?.held(effect.kind, effect.id, this)
        break
      case 'unheld':
        config.viewers?.unheld(effect.kind, effect.id, this, effect.turnedAway)
        break
      case 'discard':
        this.#held = []
        this.#outbox.discard()
        break
      case 'forget':
        this.#context.forget(this)
        this.#markDone()
        break
      case 'identified':
        observer.identified?.(effect.outcome)
        break
      case 'closed':
        observer.closed?.(effect.code)
        break
      case 'store-failed':
        observer.storeFailed?.()
        break
      case 'resumed':
        for (const outcome of effect.outcomes) observer.resumed?.(outcome)
        break
      case 'log':
        if (effect.level === 'error') config.logger.error(`${this.#name} ${effect.line}`)
        else config.logger.info(`${this.#name} ${effect.line}`)
        break
    }
  }
}
