/**
 * Close codes the server uses (and the standard ones a client meets), with the reason text the
 * original server sent and what each means to a person reading a status line.
 */
export const CloseCode = /* @__PURE__ */ Object.freeze({
  /** Closed normally (the client's `close()`, or the server at shutdown). */
  Normal: 1000,
  /** The peer is going away (server shutdown, page navigation). */
  GoingAway: 1001,
  /** No close frame was received: the connection dropped. Never sent on the wire. */
  Abnormal: 1006,
  /** A client message was larger than the server's read limit. */
  MessageTooBig: 1009,
  /** Invalid connection (ours: did not identify in time). */
  InvalidConnection: 4000,
  /** Invalid authentication: bad identify payload or credentials. */
  InvalidAuthentication: 4004,
  /** Ratelimited. */
  Ratelimited: 4012,
  /** The server failed internally. */
  InternalError: 4500,
} as const satisfies Record<string, number>)

/** One of the close codes in {@link CloseCode}. */
export type KnownCloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** What a close code says, as the original server worded it and as a person would. */
export interface CloseCodeInfo {
  /** The reason text the server sends with this code (empty when none). */
  readonly reason: string
  /** One sentence for a status line. */
  readonly meaning: string
}

/** The reason text and meaning of every known close code. */
export const CloseInfo: Readonly<Record<KnownCloseCode, CloseCodeInfo>> = /* @__PURE__ */ Object.freeze({
  1000: { reason: '', meaning: 'The connection was closed normally.' },
  1001: { reason: '', meaning: 'The server is going away (restart or shutdown).' },
  1006: { reason: '', meaning: 'The connection dropped without a close frame (network loss).' },
  1009: {
    reason: '',
    meaning: 'A message sent to the server was larger than 4096 bytes; this is a client bug.',
  },
  4000: {
    reason: 'Invalid connection, try again',
    meaning: 'The server rejected the connection (for example, no identify in time).',
  },
  4004: {
    reason: 'Invalid authentication, try again',
    meaning: 'The ID or token was rejected, or the identify payload was malformed.',
  },
  4012: { reason: 'Ratelimited', meaning: 'Too many requests in the ratelimit window.' },
  4500: {
    reason: 'Internal Server Error, try reconnecting?',
    meaning: 'The server had an internal error.',
  },
})

/**
 * The meaning of any close code: the table's sentence for a known code, a generic one otherwise.
 */
export function closeMeaning(code: number): string {
  const info = (CloseInfo as Readonly<Record<number, CloseCodeInfo | undefined>>)[code]
  return info?.meaning ?? `The connection closed with code ${code}.`
}
