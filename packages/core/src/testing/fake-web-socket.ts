import type { WebSocketConstructor, WebSocketLike } from '../socket/index.js'
import { identityPayload, joinFrames, readyPayload } from './builders.js'
import { Protocol } from '../protocol/limits.js'
import { assertClientCloseCode } from './close-codes.js'

/** How the client closed a fake socket. */
export interface ClientClose {
  /** The code passed to `close()`, if any. */
  readonly code: number | undefined
  /** The reason passed to `close()`, if any. */
  readonly reason: string | undefined
}

/**
 * A fake WebSocket driven by hand: the test plays the server with {@link FakeWebSocket.open},
 * {@link FakeWebSocket.frame} and {@link FakeWebSocket.closeFromServer}, synchronously, and
 * reads what the client sent from {@link FakeWebSocket.sent}. Use {@link fakeWebSockets} to
 * pass it to `connect({ WebSocket })`; use {@link scriptedWebSockets} for a session scripted
 * ahead of time.
 */
export class FakeWebSocket implements WebSocketLike {
  /** Set by the client. */
  onopen: WebSocketLike['onopen'] = null
  /** Set by the client. */
  onmessage: WebSocketLike['onmessage'] = null
  /** Set by the client. */
  onclose: WebSocketLike['onclose'] = null
  /** Set by the client. */
  onerror: WebSocketLike['onerror'] = null
  /** Every message the client sent, in order. */
  readonly sent: string[] = []
  /** Set once the client calls `close()`. */
  closedByClient: ClientClose | undefined
  private opened = false

  /** @param url The address the client opened. */
  constructor(readonly url: string) {}

  /** Records a message from the client; before {@link open} it throws, as a WebSocket does. */
  send(data: string): void {
    // As the WHATWG socket does (and the scripted one): sending while CONNECTING is a client bug.
    if (!this.opened) throw new Error('InvalidStateError: send() before the socket opened')
    this.sent.push(data)
  }

  /** Records the client's close; the test decides whether a close event follows. */
  close(code?: number, reason?: string): void {
    assertClientCloseCode(code)
    this.closedByClient = { code, reason }
  }

  /** Opens the connection (once; later calls do nothing). */
  open(): this {
    if (this.opened) return this
    this.opened = true
    this.onopen?.({})
    return this
  }

  /** Delivers one text frame from the server. */
  frame(data: string): this {
    this.onmessage?.({ data })
    return this
  }

  /** Closes the connection from the server's side (1006 plays a dropped connection). */
  closeFromServer(code: number, reason = ''): void {
    // A connection that ends without a close frame fires error first, as a WebSocket does.
    if (code === 1006) this.onerror?.({})
    this.onclose?.({ code, reason })
  }

  /**
   * Opens, sends `identity` and `ready`, as a server accepting the identify would.
   *
   * @param remaining `requests_remaining` in `ready`.
   */
  handshake(remaining = 18): this {
    this.open().frame(joinFrames(identityPayload()))
    return this.frame(joinFrames(readyPayload(Protocol.rateLimit - remaining)))
  }
}

/** A WebSocket constructor for `connect({ WebSocket })` and the sockets it made. */
export interface FakeWebSockets {
  /** Pass this to `connect({ WebSocket })`. */
  readonly WebSocket: WebSocketConstructor
  /** Every socket made so far, oldest first. */
  readonly sockets: readonly FakeWebSocket[]
  /** The newest socket; throws when none was made yet. */
  last(): FakeWebSocket
}

/**
 * A WebSocket constructor whose sockets are {@link FakeWebSocket}s, recorded in order.
 *
 * @example
 * const fakes = fakeWebSockets()
 * const client = connect({ url, id, token, WebSocket: fakes.WebSocket, scheduler: clock })
 * client.event$.subscribe(seen)
 * fakes.last().handshake().frame(joinFrames(wrapEvent(vote)))
 */
export function fakeWebSockets(): FakeWebSockets {
  const sockets: FakeWebSocket[] = []
  const WebSocket = class extends FakeWebSocket {
    constructor(url: string) {
      super(url)
      sockets.push(this)
    }
  }
  return {
    WebSocket,
    sockets,
    last: () => {
      const socket = sockets.at(-1)
      if (socket === undefined) throw new Error('no socket was opened')
      return socket
    },
  }
}
