import type { IncomingMessage } from 'node:http'
import { WebSocket, type RawData, type WebSocketServer } from 'ws'
import type { FatesServer } from '../protocol/make-server.js'
import type { ProtocolSocket } from '../protocol/socket.js'

const toBytes = (data: RawData): Buffer => {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return Buffer.from(data)
  return data
}

/** Binds one `ws` socket to the protocol logic. */
export function bindWebSocket(server: FatesServer, ws: WebSocket, request: IncomingMessage): void {
  // Bound late (after the user's own asynchronous check), the socket may have closed already:
  // its close event is gone, and a connection opened for it would never be let go of.
  if (ws.readyState === WebSocket.CLOSED) return
  // gorilla/websocket's default close handler answered a peer's close frame with the peer's
  // code and no reason (`FormatCloseMessage(code, "")`); `ws` echoes the reason too, by calling
  // this socket's `close(code, reason)`. Our own closes use the method kept here.
  const close = ws.close.bind(ws)
  ws.close = (code?: number) => close(code)
  const socket: ProtocolSocket = {
    send(frame, written) {
      ws.send(frame, { binary: false }, written)
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    close(code, reason) {
      close(code, reason)
    },
    terminate() {
      ws.terminate()
    },
    ping() {
      if (ws.readyState === WebSocket.OPEN) ws.ping()
    },
  }
  // Read only when a log line needs it: the peer's address costs a system call, and
  // handshakes are on the hot path.
  const peer = {
    get remote(): string {
      const { remoteAddress = '?', remotePort = 0 } = request.socket
      return `${remoteAddress}:${remotePort}`
    },
  }
  const handlers = server.opened(socket, peer)
  // Go read text and binary messages alike, as bytes; so do we.
  ws.on('message', (data) => handlers.message(toBytes(data)))
  ws.on('pong', () => handlers.pong())
  ws.on('close', (code) => handlers.closed(code))
  // `ws` reports protocol violations (oversized or malformed frames) here and then closes the
  // socket itself (1009 for a message over maxPayload); the close handler does the rest.
  ws.on('error', () => {})
}

/**
 * Serves the protocol on a `ws` server: every connection it accepts is bound to `server`.
 * Configure the `WebSocketServer` with `maxPayload: Protocol.maxMessageBytes` for the
 * original's read limit.
 */
export function useServer(server: FatesServer, wss: WebSocketServer): void {
  wss.on('connection', (ws, request) => bindWebSocket(server, ws, request))
}
