import {
  asyncScheduler,
  concat,
  EMPTY,
  map,
  mergeMap,
  NEVER,
  type Observable,
  of,
  ReplaySubject,
  type SchedulerLike,
  type Subscription,
  take,
} from 'rxjs'
import { CloseCode, CloseInfo } from '../protocol/close.js'
import type { WebSocketConstructor, WebSocketLike } from '../socket/index.js'
import { type FramePart, identityPayload, invalidAuthPayload, joinFrames, ratelimitedPayload, readyPayload } from './builders.js'
import type { ClientClose } from './fake-web-socket.js'
import { assertClientCloseCode } from './close-codes.js'

/** The server closes the connection (1006 plays a drop with no close frame). */
export interface ServerClose {
  /** The close code. */
  readonly close: number
  /**
   * The reason text.
   * @default ''
   */
  readonly reason?: string
}

/** One thing the scripted server does: send a text frame, or close. */
export type ServerAction = string | ServerClose

/** What a session script can see of its connection. */
export interface ScriptedPeer {
  /** Every message the client sent on this connection, replayed to each subscriber. */
  readonly messages: Observable<string>
  /** The address the client opened. */
  readonly url: string
  /** Which connection this is (0 for the first). */
  readonly index: number
}

/**
 * One connection's script: the server's actions as an observable, subscribed when the socket
 * opens. Its timing is the timing on the wire, so marbles work: inside `TestScheduler.run`,
 * `cold('-a--b', { a: frame1, b: { close: 4000 } })` sends a frame at 1 ms and closes at 4 ms.
 * Completing leaves the connection open and silent; an error drops it (1006).
 * A function receives the connection, to answer what the client sends.
 */
export type SessionScript = Observable<ServerAction> | ((peer: ScriptedPeer) => Observable<ServerAction>)

/** Options of {@link scriptedWebSockets}. */
export interface ScriptedWebSocketsOptions {
  /**
   * The scheduler that opens sockets and delivers the client's closes. Inside
   * `TestScheduler.run` the default is virtual too.
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike
}

/** One socket made by {@link scriptedWebSockets}: what the client did with it. */
export interface ScriptedSocket {
  /** The address the client opened. */
  readonly url: string
  /** Every message the client sent, in order. */
  readonly sent: readonly string[]
  /** Set once the client calls `close()`. */
  readonly closedByClient: ClientClose | undefined
  /** The close that ended the connection, from either side, once it has ended. */
  readonly closed: { readonly code: number; readonly reason: string } | undefined
}

/** A WebSocket constructor that plays scripted sessions, and the sockets it made. */
export interface ScriptedWebSockets {
  /** Pass this to `connect({ WebSocket })`. */
  readonly WebSocket: WebSocketConstructor
  /** Every socket made so far, oldest first. */
  readonly sockets: readonly ScriptedSocket[]
}


class ScriptedWebSocket implements WebSocketLike, ScriptedSocket {
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null
  readonly sent: string[] = []
  closedByClient: ClientClose | undefined
  closed: { readonly code: number; readonly reason: string } | undefined
  private readonly messages = new ReplaySubject<string>()
  private script: Subscription | undefined
  private open = false

  constructor(
    readonly url: string,
    index: number,
    session: SessionScript | undefined,
    private readonly scheduler: SchedulerLike,
  ) {
    // A socket reports nothing before its constructor returns (the client sets its handlers
    // after), so opening is always scheduled, as a browser's event loop would.
    scheduler.schedule(() => {
      // A socket the client closed while it was connecting never opens.
      if (this.closed !== undefined || this.closedByClient !== undefined) return
      if (session === undefined) {
        // More connections than scripted sessions: behave like an unreachable server.
        this.end(CloseCode.Abnormal, '')
        return
      }
      this.open = true
      this.onopen?.({})
      const peer: ScriptedPeer = { messages: this.messages.asObservable(), url, index }
      const actions = typeof session === 'function' ? session(peer) : session
      this.script = actions.subscribe({
        next: (action) => this.play(action),
        error: () => this.end(CloseCode.Abnormal, ''),
      })
    })
  }

  send(data: string): void {
    // As the WHATWG socket does: a closing or closed socket discards the data silently;
    // sending before open (CONNECTING) is a bug in the client.
    if (this.closed !== undefined || this.closedByClient !== undefined) return
    if (!this.open) throw new Error('InvalidStateError: send() before the socket opened')
    this.sent.push(data)
    this.messages.next(data)
  }

  close(code?: number, reason?: string): void {
    assertClientCloseCode(code)
    if (this.closedByClient !== undefined || this.closed !== undefined) return
    this.closedByClient = { code, reason }
    this.script?.unsubscribe()
    if (!this.open) {
      // Closed while connecting: the browser fails the connection (end() fires error, then 1006).
      this.scheduler.schedule(() => this.end(CloseCode.Abnormal, ''))
      return
    }
    // The server echoes the client's close; the close event comes later, never inside close().
    this.scheduler.schedule(() => this.end(code ?? 1005, reason ?? ''))
  }

  private play(action: ServerAction): void {
    if (this.closed !== undefined) return
    if (typeof action === 'string') this.onmessage?.({ data: action })
    else this.end(action.close, action.reason ?? '')
  }

  private end(code: number, reason: string): void {
    if (this.closed !== undefined) return
    this.closed = { code, reason }
    this.open = false
    this.script?.unsubscribe()
    this.messages.complete()
    // A connection that ends without a close frame (unreachable, dropped) fires error first.
    if (code === CloseCode.Abnormal) this.onerror?.({})
    this.onclose?.({ code, reason })
  }
}

/**
 * A WebSocket constructor whose n-th socket plays the n-th session script; a connection
 * beyond the last script fails as an unreachable server would (1006). Pair it with a virtual
 * scheduler (`connect({ scheduler })` and this function's) to test reconnection, timeouts and
 * replays in virtual time.
 *
 * @example
 * testScheduler.run(({ cold, expectObservable }) => {
 *   const server = scriptedWebSockets([acceptIdentify(cold('--a', { a: joinFrames(wrapEvent(vote)) }))])
 *   const client = connect({ url, id, token, WebSocket: server.WebSocket })
 *   expectObservable(client.event$.pipe(map((e) => e.ctx['votes'])), '^ 9ms !').toBe('--a', { a: 57 })
 * })
 */
export function scriptedWebSockets(
  sessions: readonly SessionScript[],
  options: ScriptedWebSocketsOptions = {},
): ScriptedWebSockets {
  const scheduler = options.scheduler ?? asyncScheduler
  const sockets: ScriptedWebSocket[] = []
  const WebSocket = class extends ScriptedWebSocket {
    constructor(url: string) {
      super(url, sockets.length, sessions[sockets.length], scheduler)
      sockets.push(this)
    }
  }
  return { WebSocket, sockets }
}

/** Options of {@link acceptIdentify}. */
export interface AcceptIdentifyOptions {
  /**
   * The ratelimit counter after this identify (sets `ready`'s detail and `requests_remaining`).
   * @default Protocol.identifyCost
   */
  readonly made?: number
}

const frame = (part: FramePart): string => joinFrames(part)

/**
 * A session that accepts the client: `identity`, then (once the client has sent its identify)
 * `ready`, then the actions of `then`.
 *
 * @param then What the server does after `ready` (frames, a close); by default it stays
 *   open and silent.
 */
export function acceptIdentify(then: Observable<ServerAction> = NEVER, options: AcceptIdentifyOptions = {}): SessionScript {
  return (peer) =>
    concat(
      of(frame(identityPayload())),
      peer.messages.pipe(
        take(1),
        map(() => frame(options.made === undefined ? readyPayload() : readyPayload(options.made))),
      ),
      then,
    )
}

/** How {@link rejectIdentify} turns the client away. */
export type Rejection = 'invalid_auth' | 'ratelimited'

/**
 * A session that rejects the client's identify: the error payload, then the close the server
 * sends with it (4004 for `invalid_auth`, 4012 for `ratelimited`).
 *
 * @param withoutPayload Send the close alone, as the original server did in about a quarter of
 *   failures (the payload and the close raced).
 */
export function rejectIdentify(rejection: Rejection, withoutPayload = false): SessionScript {
  const [payload, code] =
    rejection === 'invalid_auth'
      ? [invalidAuthPayload(), CloseCode.InvalidAuthentication]
      : [ratelimitedPayload(), CloseCode.Ratelimited]
  const close: ServerClose = { close: code, reason: CloseInfo[code].reason }
  return (peer) =>
    concat(
      of(frame(identityPayload())),
      peer.messages.pipe(
        take(1),
        mergeMap(() => (withoutPayload ? EMPTY : of(frame(payload)))),
      ),
      of(close),
    )
}
