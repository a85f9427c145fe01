/**
 * Numbers of the wire protocol, shared by the client and the server. The server makes the
 * ratelimit numbers configurable; these are the original's values and the defaults.
 */
export const Protocol = /* @__PURE__ */ Object.freeze({
  /** ASCII 31 separates JSON payloads inside one frame. */
  separator: '\x1f',
  /** The path the original Go server served the socket at. */
  path: '/ws',
  /** Client messages longer than this many bytes are closed with 1009; exactly this is fine. */
  maxMessageBytes: 4096,
  /** The server pings this often (milliseconds). */
  pingIntervalMs: 54_000,
  /** A peer silent for this long is dropped (milliseconds). */
  pongTimeoutMs: 60_000,
  /** Ratelimit: what an identify costs. */
  identifyCost: 2,
  /** Ratelimit: what every later client message costs. */
  messageCost: 1,
  /** Ratelimit: the highest counter value allowed; above it is `ratelimited`. */
  rateLimit: 20,
  /** Ratelimit: the window, fixed at the first identify (milliseconds). */
  rateWindowMs: 420_000,
  /** `requests_remaining` before identification. */
  unidentifiedRequestsRemaining: -1,
  /** Delay between the last replayed event and `done_prior` (milliseconds). */
  donePriorDelayMs: 1_000,
} as const)
