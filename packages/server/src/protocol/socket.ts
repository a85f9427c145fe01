/**
 * The minimal socket the protocol logic needs. It knows nothing about any websocket library:
 * `use/ws.ts` binds it to the `ws` package, and tests or other runtimes can bind their own.
 */
export interface ProtocolSocket {
  /**
   * Writes one text frame (given as text or as its UTF-8 bytes). `written` is called once the frame has left this process's buffers
   * (or with an error when the socket closed first); the writer uses it to batch under
   * backpressure.
   */
  send(frame: string | Buffer, written: (error?: Error) => void): void
  /** Bytes accepted by {@link send} but not yet written to the network. */
  readonly bufferedAmount: number
  /** Sends a close frame after everything already sent. */
  close(code: number, reason: string): void
  /** Drops the connection at once, without a close frame (a peer that stopped answering). */
  terminate(): void
  /** Sends a ping; the peer's pong arrives through {@link SocketHandlers.pong}. */
  ping(): void
}

/** What the adapter reports to the protocol logic about one socket. */
export interface SocketHandlers {
  /**
   * A message arrived, as text or as the bytes received (text and binary frames alike, as Go
   * read them: its error texts name invalid bytes as they are).
   */
  message(data: string | Uint8Array): void
  /** A pong arrived. */
  pong(): void
  /** The socket closed, for whatever reason; called exactly once. */
  closed(code: number): void
}

/** What the adapter knows about a socket's peer, for log lines. */
export interface PeerInfo {
  /**
   * The remote address and port, e.g. `127.0.0.1:53122`. May be a getter: the protocol logic
   * reads it only when it logs.
   */
  readonly remote: string
}
