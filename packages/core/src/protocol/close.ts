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

/**
 * What each known close code means, in one sentence for a status line. The client shows these;
 * the reasons ({@link CloseReason}) are the server's, in a table of their own so that a client
 * bundle does not carry them.
 */
export const CloseMeaning = /* @__PURE__ */ Object.freeze({
  1000: 'The connection was closed normally.',
  1001: 'The server is going away (restart or shutdown).',
  1006: 'The connection dropped without a close frame (network loss).',
  1009: 'A message sent to the server was larger than 4096 bytes; this is a client bug.',
  4000: 'The server rejected the connection (for example, no identify in time).',
  4004: 'The ID or token was rejected, or the identify payload was malformed.',
  4012: 'Too many requests in the ratelimit window.',
  4500: 'The server had an internal error.',
} as const satisfies Record<KnownCloseCode, string>)

/** The reason text the original server sent with each known close code (empty when none). */
export const CloseReason = /* @__PURE__ */ Object.freeze({
  1000: '',
  1001: '',
  1006: '',
  1009: '',
  4000: 'Invalid connection, try again',
  4004: 'Invalid authentication, try again',
  4012: 'Ratelimited',
  4500: 'Internal Server Error, try reconnecting?',
} as const satisfies Record<KnownCloseCode, string>)

/** The reason text and meaning of every known close code ({@link CloseReason} and {@link CloseMeaning} together). */
export const CloseInfo: Readonly<Record<KnownCloseCode, CloseCodeInfo>> = /* @__PURE__ */ closeInfo()

function closeInfo(): Readonly<Record<KnownCloseCode, CloseCodeInfo>> {
  const info = Object.values(CloseCode).map((code) => [
    code,
    Object.freeze({ reason: CloseReason[code], meaning: CloseMeaning[code] }),
  ])
  return Object.freeze(Object.fromEntries(info) as Record<KnownCloseCode, CloseCodeInfo>)
}

/**
 * The meaning of any close code: the table's sentence for a known code, a generic one otherwise.
 */
export function closeMeaning(code: number): string {
  return (CloseMeaning as Readonly<Record<number, string | undefined>>)[code] ?? `The connection closed with code ${code}.`
}
