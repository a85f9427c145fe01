import DefaultWebSocket from 'isomorphic-ws'
import { Observable } from 'rxjs'

/**
 * The part of the WHATWG `WebSocket` the client uses. The browser's `WebSocket`, `ws` and
 * test doubles all fit it.
 */
export interface WebSocketLike {
  /** Sends one text message. */
  send(data: string): void
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void
  /** Called once the connection is open. */
  onopen: ((event: unknown) => void) | null
  /** Called for each message; `data` is a string for text frames. */
  onmessage: ((event: { readonly data: unknown }) => void) | null
  /** Called once, when the connection is closed (after an error too). */
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null
  /** Called on an error; a `close` always follows. */
  onerror: ((event: unknown) => void) | null
}

/** A constructor of {@link WebSocketLike} sockets, such as `globalThis.WebSocket` or `ws`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** The socket opened. */
export interface SocketOpen {
  /** Discriminant. */
  readonly type: 'open'
  /** Sends one text message on this socket. */
  readonly send: (text: string) => void
}

/** A text frame arrived. */
export interface SocketFrame {
  /** Discriminant. */
  readonly type: 'frame'
  /** The frame's text. */
  readonly data: string
}

/** The socket closed; nothing follows. */
export interface SocketClose {
  /** Discriminant. */
  readonly type: 'close'
  /** The close code; 1006 when the connection dropped without a close frame. */
  readonly code: number
  /** The close reason as sent (not yet redacted). */
  readonly reason: string
}

/** What a socket reports: it opened (with a way to send), a text frame, or its close. */
export type SocketSignal = SocketOpen | SocketFrame | SocketClose

const decoder = typeof TextDecoder === 'undefined' ? undefined : new TextDecoder()

function asText(data: unknown): string {
  if (typeof data === 'string') return data
  // The protocol sends text only; a binary frame is decoded so that the pipeline reports what
  // it holds as a diagnostic rather than dropping it silently.
  if (decoder !== undefined && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    return decoder.decode(data as ArrayBuffer | ArrayBufferView)
  }
  return String(data)
}

/**
 * One WebSocket connection as an observable: subscribing opens it, it emits `open`, each text
 * frame, then `close` (the code is 1006 when the connection dropped) and completes.
 * Unsubscribing closes it with 1000. This is the only file of the client with effects on the
 * network; everything else is testable without a socket.
 *
 * @param url The `ws:`/`wss:` address. It never carries credentials.
 * @param WebSocket The constructor to use; `isomorphic-ws` (the browser's own, or `ws` in Node)
 *   by default.
 */
export function webSocket$(
  url: string,
  WebSocket: WebSocketConstructor = DefaultWebSocket as unknown as WebSocketConstructor,
): Observable<SocketSignal> {
  return new Observable<SocketSignal>((subscriber) => {
    let closed = false
    let socket: WebSocketLike
    try {
      socket = new WebSocket(url)
    } catch {
      // A constructor that refuses (a browser's CSP, a blocked port) is a connection that
      // failed to open: report it as a drop so that the policy decides, never as a throw.
      subscriber.next({ type: 'close', code: 1006, reason: '' })
      subscriber.complete()
      return undefined
    }
    socket.onopen = () => {
      subscriber.next({ type: 'open', send: (text) => socket.send(text) })
    }
    socket.onmessage = (event) => {
      subscriber.next({ type: 'frame', data: asText(event.data) })
    }
    // Errors carry no useful information (browsers hide it on purpose); the close that always
    // follows carries the code.
    socket.onerror = () => undefined
    socket.onclose = (event) => {
      closed = true
      subscriber.next({ type: 'close', code: event.code, reason: event.reason })
      subscriber.complete()
    }
    return () => {
      socket.onopen = null
      socket.onmessage = null
      socket.onclose = null
      if (!closed) {
        try {
          socket.close(1000)
        } catch {
          // ws throws when closing a socket whose handshake already failed; it is closed then.
        }
      }
    }
  })
}
