/**
 * What a relay (`fates-rx-server --upstream …`) adds to the wire, in one place for the relay,
 * the client and the dashboard. A relay speaks the unchanged protocol to its viewers; these are
 * the only additions: four control codes that tell viewers about the relay's own upstream
 * connection (the client passes them on through `control$` like any unknown code), and one
 * close code for a relay whose upstream failed.
 */
export const RelayControlCode = /* @__PURE__ */ Object.freeze({
  /**
   * The relay is not receiving from its upstream right now: it is connecting, or reconnecting
   * after a drop or a restart of the origin. Viewers stay connected; once `upstream_live`
   * follows, every event published meanwhile has been delivered (the relay resumes the gap).
   * Sent to every viewer of the target when its upstream goes down, and after `ready` to a
   * viewer that identifies while it is down.
   */
  UpstreamConnecting: 'upstream_connecting',
  /** The upstream is live again (after `upstream_connecting`); the gap, if any, is filled. */
  UpstreamLive: 'upstream_live',
  /**
   * The upstream refused the relay (its credentials were rejected, or the URL is wrong): a
   * close with {@link RelayCloseCode}`.UpstreamFailed` follows at once. The detail says when
   * the relay tries again (it retries on a long capped backoff, see `upstream_retrying`).
   */
  UpstreamFailed: 'upstream_failed',
  /**
   * The relay is trying its failed upstream again (a retry on its long backoff, or one its
   * operator asked for): sent to every viewer as the attempt starts, and after `ready` to a
   * viewer that identifies during it. `upstream_live` follows if it succeeds; `upstream_failed`
   * and a close with {@link RelayCloseCode}`.UpstreamFailed`, naming the next attempt's time, if not.
   */
  UpstreamRetrying: 'upstream_retrying',
} as const satisfies Record<string, string>)

/** One of the relay's control codes. */
export type RelayControl = (typeof RelayControlCode)[keyof typeof RelayControlCode]

/** The close code a relay adds to the protocol's. */
export const RelayCloseCode = /* @__PURE__ */ Object.freeze({
  /**
   * The relay's upstream failed: every viewer of that target is closed with it, and an
   * identify for that target is answered with it, until one of the relay's retries (on a long
   * capped backoff, or at once when its operator asks) reaches the upstream. Not in the
   * client's close policy, so the client backs off and retries (as for any unknown code): a
   * page left open comes back by itself once the upstream is reachable again.
   */
  UpstreamFailed: 4503,
} as const satisfies Record<string, number>)

/** The reason text a relay sends with each of its close codes, and what the code means. */
export const RelayCloseInfo = /* @__PURE__ */ Object.freeze({
  4503: Object.freeze({
    reason: 'Upstream unavailable, try again later',
    meaning: "The relay's upstream refused it (for example its credentials); the relay retries it on a long backoff, or at once when its operator asks.",
  }),
} as const satisfies Record<(typeof RelayCloseCode)[keyof typeof RelayCloseCode], { reason: string; meaning: string }>)
