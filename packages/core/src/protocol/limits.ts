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

/**
 * Bounds on an event's `m.ts` (Unix seconds), one definition for the server and the client. The
 * original accepted any number, and one event stamped `1e300` moved every client's resume mark
 * past all later events: after the next gap, each was taken for one already seen.
 */
export const Timestamps = /* @__PURE__ */ Object.freeze({
  /** The earliest `m.ts` the server accepts at publish: before 1970 is no real event's time. */
  min: 0,
  /**
   * How far ahead of its clock the server accepts an `m.ts` at publish (seconds), and how far
   * ahead of the receiver's clock a client's resume mark may move: the skew allowed between a
   * producer's clock and the receiver's.
   */
  maxAheadSeconds: 60,
} as const)
