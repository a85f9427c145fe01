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
  /**
   * The frame's size in bytes as received, when the socket says (Node's `ws`, which receives
   * the bytes before it decodes them); absent in a browser, whose message events carry only
   * the text.
   */
  readonly bytes?: number | undefined
}

/** The socket closed; nothing follows. */
export interface SocketClose {
  /** Discriminant. */
  readonly type: 'close'
  /** The close code; 1006 when the connection dropped without a close frame. */
  readonly code: number
  /** The close reason as sent (not yet redacted). */
  readonly reason: string
  /**
   * What failed, when the socket said: in Node, `ws`'s error (`connect ECONNREFUSED
   * 127.0.0.1:9`, `Unexpected server response: 404`, an invalid frame), or the constructor's
   * refusal (`Invalid URL: …`). Absent in a browser, which hides why a connection failed on
   * purpose (the close is a bare 1006). It never holds the token (the client sends it only in
   * the identify message), but it may quote server text such as a redirect's `Location`:
   * redact it as you redact `reason`.
   */
  readonly error?: string
  /**
   * The HTTP status the server answered the upgrade request with instead of 101 (`404` for a
   * wrong path), when known: in Node with `ws`. Absent in a browser.
   */
  readonly httpStatus?: number
}

/** What a socket reports: it opened (with a way to send), a text frame, or its close. */
export type SocketSignal = SocketOpen | SocketFrame | SocketClose

// Every runtime the client supports has TextDecoder (as metrics.ts relies on TextEncoder).
const decoder = new TextDecoder()

function asText(data: unknown): string {
  // (Two equivalent mutants, left counted: the test never taken, `false` or `=== ''`, as `String` of a string is itself.)
  if (typeof data === 'string') return data
  // The protocol sends text only; a binary frame is decoded so that the pipeline reports what
  // it holds as a diagnostic rather than dropping it silently.
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return decoder.decode(data)
  return String(data)
}

/**
 * The part of Node's `ws` socket beyond the WHATWG interface that the client uses: why a
 * handshake failed, and each message as the bytes received. A socket with both `on` and
 * `terminate` is taken for one.
 */
interface NodeWebSocket {
  on(event: 'unexpected-response', listener: (request: unknown, response: { readonly statusCode?: number }) => void): unknown
  on(event: 'message', listener: (data: { readonly byteLength?: number }, binary: boolean) => void): unknown
  terminate(): void
}

/** The message of an error or of ws's error event; undefined when there is none (a browser's event). */
function errorText(thrown: unknown): string | undefined {
  const message = (thrown as { readonly message?: unknown } | null | undefined)?.message
  return typeof message === 'string' && message !== '' ? message : undefined
}

/** A close signal, with what is known of why. */
function closeSignal(code: number, reason: string, error: string | undefined, httpStatus?: number): SocketClose {
  const signal: { -readonly [K in keyof SocketClose]: SocketClose[K] } = { type: 'close', code, reason }
  if (error !== undefined) signal.error = error
  if (httpStatus !== undefined) signal.httpStatus = httpStatus
  return signal
}

/**
 * One WebSocket connection as an observable: subscribing opens it, it emits `open`, each text
 * frame, then `close` (the code is 1006 when the connection dropped, with `error` and
 * `httpStatus` when the socket knows why: in Node, not in a browser) and completes.
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
    } catch (thrown) {
      // A constructor that refuses (a browser's CSP, a blocked port, a malformed URL) is a
      // connection that failed to open: report it as a drop so that the policy decides, never
      // as a throw, with the reason when there is one.
      subscriber.next(closeSignal(1006, '', errorText(thrown)))
      subscriber.complete()
      return undefined
    }
    // What the socket knew before it closed; the first failure is the cause, the rest follow it.
    let error: string | undefined
    let httpStatus: number | undefined
    // Node's ws: listening takes over what ws would do itself (abort with an error naming the
    // status), so abort the same way after noting the status. A browser's socket has neither
    // `on` nor `terminate`.
    const ws = socket as WebSocketLike & Partial<NodeWebSocket>
    // ws's own event, not onmessage: it hands over the received bytes, whose `byteLength` is
    // the frame's size (counting it again from the text was a scan of every frame: e2e, about
    // 2% of connect()'s throughput), and skips the MessageEvent onmessage wraps each one in.
    // A text frame is a Buffer, turned into text as ws's onmessage does (a leading BOM kept); a
    // binary one is what the socket's `binaryType` makes it, decoded as asText decodes
    // onmessage's data. Unsubscribing leaves this listener on the closing socket (removing it
    // cost 8 B of every app's download): a frame that still arrives is turned into text and
    // reaches a stopped subscriber, which RxJS drops.
    if (ws.on && ws.terminate) {
      ws.on('unexpected-response', (_request, response) => {
        httpStatus = response.statusCode
        error ??= `Unexpected server response: ${httpStatus}`
        // Checked above, with `on`, before this listener was added.
        ws.terminate!()
      })
      ws.on('message', (data, binary) => {
        subscriber.next({ type: 'frame', data: binary ? asText(data) : String(data), bytes: data.byteLength })
      })
    } else {
      socket.onmessage = (event) => {
        subscriber.next({ type: 'frame', data: asText(event.data) })
      }
    }
    socket.onopen = () => {
      subscriber.next({ type: 'open', send: (text) => socket.send(text) })
    }
    // A browser's error event says nothing (on purpose); ws's carries the failure. The close
    // that always follows carries the code, and what was learnt here.
    socket.onerror = (event) => {
      error ??= errorText(event)
    }
    socket.onclose = (event) => {
      closed = true
      subscriber.next(closeSignal(event.code, event.reason, error, httpStatus))
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
