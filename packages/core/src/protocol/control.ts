/**
 * Control payload codes the original server sends. Unknown codes are passed through by the
 * codec, so this table names the known ones; it does not limit what arrives.
 */
export const ControlCode = /* @__PURE__ */ Object.freeze({
  /** Sent on connect: the server waits for the identify payload. */
  Identity: 'identity',
  /** Identify accepted; events follow. */
  Ready: 'ready',
  /** A `send_all` replay has finished (sent about one second after the last prior event). */
  DonePrior: 'done_prior',
  /** The identify payload was malformed; a 4004 close follows. */
  InvalidPayload: 'invalid_payload',
  /** Unknown id, wrong token or wrong bot/server kind; a 4004 close follows. */
  InvalidAuth: 'invalid_auth',
  /** The ratelimit counter passed its maximum; a 4012 close follows. */
  Ratelimited: 'ratelimited',
} as const satisfies Record<string, string>)

/** One of the known control codes. */
export type KnownControlCode = (typeof ControlCode)[keyof typeof ControlCode]

/**
 * Fixed texts the original server put in control payload details. The server reproduces them
 * byte for byte; clients may show them but must never parse them.
 */
export const ControlDetail = /* @__PURE__ */ Object.freeze({
  identity:
    'Send Bot ID and API Token as id and token keys in json format. Set send_all to true if you want all events to be sent during startup but this may cause disconnects, more memory usage, more ratelimits and instability. Set send_none to true to not send any events at all after sending prior ones if send_all is set to true. Set bot to true for bot and false for server',
  donePrior: 'Done sending all prior messages',
  /** `ready`: N is the ratelimit counter after this identify. */
  ready: (made: number): string => `Waiting for messages with ${made} already made`,
  /** `ratelimited`: N is the counter after the rejected request. */
  ratelimited: (made: number): string => `Past max requests that can be sent (${made})`,
})
