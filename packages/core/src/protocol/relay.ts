/**
 * What a relay (`fates-rx-server --upstream …`) adds to the wire, in one place for the relay,
 * the client and the dashboard. A relay speaks the unchanged protocol to its viewers; these are
 * the only additions: three control codes that tell viewers about the relay's own upstream
 * connection (the client passes them on through `control$` like any unknown code), and one
 * close code for a relay whose upstream failed for good.
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
   * The upstream refused the relay for good (its credentials were rejected, or the URL is
   * wrong): a close with {@link RelayCloseCode}`.UpstreamFailed` follows at once.
   */
  UpstreamFailed: 'upstream_failed',
} as const satisfies Record<string, string>)

/** One of the relay's control codes. */
export type RelayControl = (typeof RelayControlCode)[keyof typeof RelayControlCode]

/** The close code a relay adds to the protocol's. */
export const RelayCloseCode = /* @__PURE__ */ Object.freeze({
  /**
   * The relay's upstream failed for good: every viewer of that target is closed with it, and
   * an identify for that target is answered with it, until the relay is restarted. Not in the
   * client's close policy, so the client backs off and retries (as for any unknown code): a
   * page left open comes back by itself once the operator has fixed and restarted the relay.
   */
  UpstreamFailed: 4503,
} as const satisfies Record<string, number>)

/** The reason text a relay sends with each of its close codes, and what the code means. */
export const RelayCloseInfo = /* @__PURE__ */ Object.freeze({
  4503: Object.freeze({
    reason: 'Upstream unavailable, try again later',
    meaning: "The relay's upstream refused it for good (for example its credentials); the relay does not retry until it is restarted.",
  }),
} as const satisfies Record<(typeof RelayCloseCode)[keyof typeof RelayCloseCode], { reason: string; meaning: string }>)
