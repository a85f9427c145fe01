import { RelayControlCode } from '@fates-rx/core/protocol'
import { BackoffDefaults, ConnectDefaults } from '@fates-rx/core/sans-io'

/**
 * Where a relayed target's upstream connection is, as viewers and `/metrics` see it:
 * - `idle`: no upstream connection (no viewer yet, or the grace period after the last one ran out).
 * - `connecting`: an upstream connection is opening, or reconnecting after a drop (core's
 *   `connecting`, `identifying`, `replaying` and `reconnecting`).
 * - `live`: the upstream delivers events (a reconnect's gap, if any, filled).
 * - `failed`: the upstream refused the relay (core's `failed`: a 4004, a 1009, a wrong URL);
 *   the relay waits for its next retry (a long capped backoff, see {@link RetryPolicy}) or for
 *   its operator's `retry-now`.
 */
export type UpstreamStatus = 'idle' | 'connecting' | 'live' | 'failed'

/** Every {@link UpstreamStatus}, in the order `/metrics` lists them. */
export const UpstreamStatuses: readonly UpstreamStatus[] = Object.freeze(['idle', 'connecting', 'live', 'failed'])

/** One relayed target's state: how many viewers, and where its upstream is. */
export interface TargetState {
  /** Viewers identified for this target and still connected. */
  readonly viewers: number
  /**
   * Viewers whose identify is held (`admission`'s `hold`) while the target is
   * {@link TargetState.behind}, and those let in since that have not joined yet: they hold the
   * upstream open as viewers do, and each leaves this count by joining (`viewer-joined` with
   * `held`), going (`hold-ended`), or being refused with the others when the upstream fails.
   */
  readonly held: number
  /** Where the upstream connection is. */
  readonly upstream: UpstreamStatus
  /** True while the grace timer runs (no viewer left, the upstream kept open). */
  readonly grace: boolean
  /** What viewers are told about the upstream while it is `connecting` or `failed`. */
  readonly detail: string
  /**
   * Retry attempts since the upstream was last live (0 while it has not failed): the next
   * retry's backoff doubles with each.
   */
  readonly retries: number
  /** True while the retry timer runs (the upstream `failed`, its next attempt armed). */
  readonly retryArmed: boolean
  /**
   * True from the upstream's closing (no viewer for the grace period) until a reopened upstream
   * has come live and what it replayed is stored: meanwhile the store may lack events the origin
   * published while nobody was connected, so a viewer's replay could not be whole, and an exact
   * resume (`after`) would be a lie. Viewers identifying meanwhile are held until then
   * (`admission`).
   */
  readonly behind: boolean
}

/**
 * What the relay's edge tells the machine. Time enters as `grace-expired`, `retry-due` and the
 * `at` of a failed status; chance only as its `random`.
 */
export type TargetInput =
  /**
   * A viewer identified for this target (after its `ready` was queued); `held`: one that was
   * {@link TargetState.held}, which it leaves for the viewers.
   */
  | { readonly type: 'viewer-joined'; readonly held?: boolean }
  /** A viewer that had joined closed. */
  | { readonly type: 'viewer-left' }
  /** The grace timer armed by `arm-grace` ran out. */
  | { readonly type: 'grace-expired' }
  /**
   * The upstream client's status changed, mapped to an {@link UpstreamStatus}; `detail` is
   * what viewers may read (no URL, no token), `log` what the operator reads.
   */
  | {
      readonly type: 'upstream'
      readonly status: Exclude<UpstreamStatus, 'idle'>
      readonly detail: string
      readonly log: string
      /** When the status arrived (ms since the epoch): a `failed` status's retry is timed from it. */
      readonly at?: number
      /** A uniform sample in [0, 1) for the retry's jitter (a `failed` status's); absent: none. */
      readonly random?: number
    }
  /** The retry timer armed by `arm-retry` ran out. */
  | { readonly type: 'retry-due' }
  /** The operator asked for a retry now (`SIGHUP`, `POST /admin/upstreams/retry`). */
  | { readonly type: 'retry-now' }
  /** A viewer's identify is held because the target is {@link TargetState.behind} (`admission`'s `hold`). */
  | { readonly type: 'viewer-held' }
  /**
   * A held viewer went before it joined: it closed, or (`turnedAway`) it waited `HoldMs` and
   * was turned away, and comes back (core's client identifies again on its backoff).
   */
  | { readonly type: 'hold-ended'; readonly turnedAway: boolean }
  /** Every upstream event received before `await-stored` is stored (or given up on, logged). */
  | { readonly type: 'stored' }
  /**
   * The store gave up on some of this target's upstream events (`PublishRetry`): the upstream
   * client's mark had moved past them, so the store lacks them until they are fetched again.
   */
  | { readonly type: 'store-lost' }
  /** The relay shuts down: every timer stops and the upstream closes. */
  | { readonly type: 'stop' }

/**
 * Who a control payload or a refusal goes to: the viewer that just joined, every viewer that
 * joined, or every held one ({@link TargetState.held}).
 */
export type Audience = 'joined' | 'all' | 'held'

/** What the edge does after a step, in order. */
export type TargetEffect =
  /** Open the upstream connection (core's `connect()`, resume on). */
  | { readonly type: 'open-upstream' }
  /** Close the upstream connection and forget it. */
  | { readonly type: 'close-upstream' }
  /** Start the grace timer; when it runs out, feed `grace-expired`. */
  | { readonly type: 'arm-grace'; readonly ms: number }
  /** Stop the grace timer. */
  | { readonly type: 'cancel-grace' }
  /** Start the retry timer; when it runs out, feed `retry-due`. */
  | { readonly type: 'arm-retry'; readonly ms: number }
  /** Stop the retry timer. */
  | { readonly type: 'cancel-retry' }
  /** Try the failed upstream again now (core's `reconnect()`); count the attempt. */
  | { readonly type: 'retry-upstream'; readonly attempt: number }
  /** Send a control payload to viewers. */
  | { readonly type: 'tell'; readonly to: Audience; readonly code: string; readonly detail: string }
  /** Send `upstream_failed` with `detail` to viewers, then close them with 4503. */
  | { readonly type: 'refuse'; readonly to: Audience; readonly detail: string }
  /** Write a log line (never a token or a URL). */
  | { readonly type: 'log'; readonly line: string }
  /** Once every upstream event received so far is stored, feed `stored`. */
  | { readonly type: 'await-stored' }
  /**
   * Let every held viewer still waiting identify (the target caught up); they stay
   * {@link TargetState.held} until they join.
   */
  | { readonly type: 'admit-held' }
  /**
   * Replace the upstream client with a fresh one whose mark is rewound to before the events the
   * store lost (its eid dedupe remembers them; the record keeps its identify budget), opened at
   * once when `reopen`, else at the next opening or retry.
   */
  | { readonly type: 'refill-upstream'; readonly reopen: boolean }

/** The result of one {@link step}. */
export interface TargetStep {
  readonly state: TargetState
  readonly effects: readonly TargetEffect[]
}

/** How a failed upstream is retried: the first wait, doubling per attempt up to the cap, jittered. */
export interface RetryPolicy {
  /** The wait before the first retry after a failure (milliseconds, > 0). */
  readonly firstMs: number
  /** The longest wait between retries (milliseconds, ≥ `firstMs`). */
  readonly maxMs: number
}

/** The retry's defaults: 1 minute, doubling to 30 minutes, so a refusing origin sees at most 2 identifies an hour per target. */
export const RetryDefaults: RetryPolicy = Object.freeze({ firstMs: 60_000, maxMs: 30 * 60_000 })

/** Each retry's wait is its backoff times a factor in [1 − RetryJitter, 1 + RetryJitter), capped: relays restarted together spread out. */
export const RetryJitter = 0.2

/** The machine's settings. */
export interface TargetConfig {
  /** How long the upstream stays open after the last viewer left (milliseconds; 0: closes at once). */
  readonly graceMs: number
  /** How a failed upstream is retried. @default {@link RetryDefaults} */
  readonly retry?: RetryPolicy
}

/**
 * The wait before retry number `retries + 1`: `firstMs · 2^retries`, times the jitter factor
 * for `random`, never over `maxMs`. Pure.
 */
export function retryDelay(retries: number, random: number, policy: RetryPolicy = RetryDefaults): number {
  const backoff = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(retries, 52))
  const factor = 1 - RetryJitter + 2 * RetryJitter * Math.min(Math.max(random, 0), 1)
  return Math.round(Math.min(policy.maxMs, backoff * factor))
}

/** The words viewers read about a failed upstream's next attempt (no address, no token). */
export function retryWords(failure: string, at: number | undefined, ms: number): string {
  const date = at === undefined ? undefined : new Date(at + ms)
  // A time no Date can hold (NaN, or past ±8.64e15 ms) is said as a wait, not thrown from the pure step.
  const when = date === undefined || Number.isNaN(date.getTime()) ? `in ${Math.round(ms / 1000)} s` : `at ${date.toISOString()}`
  return `${failure} The relay tries again ${when}, or sooner when its operator asks.`
}

/** What viewers are told as a retry attempt starts. */
export const retryingDetail = (attempt: number): string =>
  `The relay is retrying its failed upstream (attempt ${attempt}); stay connected, events follow once it is live.`

/** What viewers are told while the first upstream connection opens. */
export const OpeningDetail = 'The relay is connecting to its upstream; events follow once it is live.'

/**
 * What viewers are told when they are turned away while the relay catches up
 * ({@link TargetState.behind}): held for {@link HoldMs} in vain.
 */
export const CatchingUpDetail =
  'The relay is reopening its upstream and storing what was published since it was last open; identify again in a moment to get it.'

/**
 * What viewers are told when the relay reconnects its upstream to fetch again events its store
 * could not keep (`store-lost`).
 */
export const RefillingDetail =
  'The relay is reconnecting to its upstream to fetch again events its store could not keep; stay connected, they follow.'

/**
 * How long an upstream reopened for a viewer that was turned away waits for it to come back,
 * when the grace period is shorter: core's longest backoff (30 s by default), so that a
 * turned-away client always finds it open, and a short `graceMs` cannot make each of its
 * attempts reopen it.
 */
export const WaitingGraceMs = BackoffDefaults.maxDelayMs

/**
 * How long a viewer's identify is held while its target catches up before it is turned away
 * (`upstream_connecting`, 4000): half of core's default ready timeout (10 s). Core's client
 * closes and identifies again when no `ready` comes within that timeout, counted from its
 * identify; the hold starts later (after the token check) and its refusal still has to travel,
 * so half leaves room for both, and the client hears why instead of timing out. Catching up
 * takes about a second (the origin's `done_prior` comes a second after its replay). A client
 * whose `readyTimeoutMs` is shorter gives up first, and comes back on its backoff: the relay
 * keeps the upstream open for it meanwhile (`hold-ended` while behind).
 */
export const HoldMs = ConnectDefaults.readyTimeoutMs / 2

/** A target with no viewer and no upstream connection. */
export const IdleTarget: TargetState = Object.freeze({ viewers: 0, held: 0, upstream: 'idle', grace: false, detail: '', retries: 0, retryArmed: false, behind: false })

/**
 * What a viewer identifying now gets, by the state alone: `refuse` while the upstream is
 * `failed` (`upstream_failed` and 4503); `hold` while the target is {@link TargetState.behind}
 * (its identify waits, unanswered, until the target has caught up and its replay can be
 * whole, for {@link HoldMs} at most); else `admit`. Pure.
 */
export function admission(state: TargetState): 'admit' | 'refuse' | 'hold' {
  if (state.upstream === 'failed') return 'refuse'
  return state.behind ? 'hold' : 'admit'
}

/** Whether an upstream connection exists (open, opening or reconnecting). Pure. */
export const upstreamOpen = (status: UpstreamStatus): boolean => status === 'connecting' || status === 'live'

/** Whether anyone keeps the upstream open: a viewer, or a held one. */
const watched = (state: TargetState): boolean => state.viewers > 0 || state.held > 0

/**
 * Nobody keeps the open upstream any more: it lives on for `ms` (the grace timer), or closes at
 * once for 0, after which the target is behind.
 */
function unwatched(state: TargetState, effects: TargetEffect[], ms: number): TargetState {
  if (watched(state) || !upstreamOpen(state.upstream) || state.grace) return state
  if (ms === 0) {
    effects.push({ type: 'close-upstream' }, { type: 'log', line: 'closing the upstream connection (no viewer left)' })
    return { ...state, upstream: 'idle', detail: '', behind: true }
  }
  effects.push({ type: 'arm-grace', ms })
  return { ...state, grace: true }
}

/** A retry attempt: the upstream reconnects (`connecting`), everyone hears it. */
function attempt(state: TargetState, effects: TargetEffect[], why: string): TargetStep {
  const retries = state.retries + 1
  const detail = retryingDetail(retries)
  effects.push(
    { type: 'retry-upstream', attempt: retries },
    { type: 'log', line: `retrying the failed upstream (attempt ${retries}, ${why})` },
    { type: 'tell', to: 'all', code: RelayControlCode.UpstreamRetrying, detail },
  )
  return { state: { ...state, upstream: 'connecting', retries, retryArmed: false, detail }, effects }
}

/**
 * The relay's decisions for one target, sans I/O: viewers joining and leaving, the grace timer,
 * and the upstream client's status go in; what to do comes out. One upstream connection exists
 * while at least one viewer is connected and for `graceMs` after the last one left. Once it
 * `failed` (core's close policy decided it cannot succeed) viewers are refused, and they cannot
 * make it retry (no retry storm): only the retry timer, on a long capped backoff, or the
 * operator's `retry-now` do. Once it closed, the target is `behind`: the next viewer reopens it,
 * its identify held (`viewer-held`) until the reopened upstream is live and its replay stored
 * (`stored`, then `admit-held`), so that every replay the relay serves is whole; a held viewer
 * keeps the upstream open as a viewer does, until it joins or goes (`hold-ended`).
 */
export function step(state: TargetState, input: TargetInput, config: TargetConfig): TargetStep {
  const effects: TargetEffect[] = []
  switch (input.type) {
    case 'viewer-joined': {
      const held = input.held === true ? Math.max(0, state.held - 1) : state.held
      let next: TargetState = { ...state, viewers: state.viewers + 1, held }
      if (next.grace) {
        effects.push({ type: 'cancel-grace' })
        next = { ...next, grace: false }
      }
      if (next.upstream === 'idle') {
        effects.push({ type: 'open-upstream' }, { type: 'log', line: 'opening the upstream connection (first viewer)' })
        next = { ...next, upstream: 'connecting', detail: OpeningDetail }
      }
      if (next.upstream === 'connecting') {
        const code = next.retries > 0 ? RelayControlCode.UpstreamRetrying : RelayControlCode.UpstreamConnecting
        effects.push({ type: 'tell', to: 'joined', code, detail: next.detail })
      } else if (next.upstream === 'failed') {
        effects.push({ type: 'refuse', to: 'joined', detail: next.detail })
      }
      return { state: next, effects }
    }
    case 'viewer-left':
      return { state: unwatched({ ...state, viewers: Math.max(0, state.viewers - 1) }, effects, config.graceMs), effects }
    case 'grace-expired': {
      // A timer cancelled too late (a viewer joined in the same turn) may still fire: ignored.
      if (!state.grace) return { state, effects }
      if (watched(state) || !upstreamOpen(state.upstream)) return { state: { ...state, grace: false }, effects }
      effects.push(
        { type: 'close-upstream' },
        { type: 'log', line: `closing the upstream connection (no viewer for ${config.graceMs} ms)` },
      )
      return { state: { ...state, grace: false, upstream: 'idle', detail: '', retries: 0, behind: true }, effects }
    }
    case 'retry-due':
      // A timer cancelled too late (retry-now, stop) may still fire: ignored (a failed upstream
      // always has its retry armed, so `failed` is the whole test).
      if (state.upstream !== 'failed') return { state, effects }
      return attempt(state, effects, 'its backoff ran out')
    case 'retry-now':
      if (state.upstream !== 'failed') return { state, effects }
      if (state.retryArmed) effects.push({ type: 'cancel-retry' })
      return attempt(state, effects, 'the operator asked')
    case 'viewer-held': {
      let next: TargetState = { ...state, held: state.held + 1 }
      // The state moved on since `admission` answered (a queued input): the viewer gets what it
      // would get now, so that no held viewer waits for a catching-up that is not coming.
      if (next.upstream === 'failed') {
        effects.push({ type: 'refuse', to: 'held', detail: next.detail })
        return { state: { ...next, held: 0 }, effects }
      }
      if (next.grace) {
        effects.push({ type: 'cancel-grace' })
        next = { ...next, grace: false }
      }
      if (next.upstream === 'idle') {
        const why = next.behind ? 'reopening the upstream connection (a viewer waits for what was published since it closed)' : 'opening the upstream connection (first viewer)'
        effects.push({ type: 'open-upstream' }, { type: 'log', line: why })
        next = { ...next, upstream: 'connecting', detail: OpeningDetail }
      }
      if (!next.behind) effects.push({ type: 'admit-held' })
      return { state: next, effects }
    }
    case 'hold-ended': {
      // One that went before the target caught up is likely to come back: turned away, or a
      // client whose own ready timeout ran out first (core's is the client's to set). The grace
      // timer keeps the upstream open long enough for it, and for the gap to be stored, so that
      // its return is let in: closing a reopened upstream still behind would make every return
      // reopen it again, an identify at the origin each time.
      const ms = input.turnedAway || state.behind ? Math.max(config.graceMs, WaitingGraceMs) : config.graceMs
      return { state: unwatched({ ...state, held: Math.max(0, state.held - 1) }, effects, ms), effects }
    }
    case 'stored':
      // Stored before a new drop (or a close) of the upstream: its next live asks again.
      if (!state.behind || state.upstream !== 'live') return { state, effects }
      effects.push({ type: 'log', line: 'caught up: what the upstream replayed (the gap since it was closed, or what the store had lost) is stored, viewers are let in' })
      if (state.held > 0) effects.push({ type: 'admit-held' })
      return { state: { ...state, behind: false }, effects }
    case 'store-lost': {
      // Until the events are stored again a replay would lack them (and an exact resume lie):
      // the target is behind, as after a closing, and new viewers are held.
      if (state.grace) {
        // Nobody watches: a fresh client now would be an identify for a grace period that may
        // run out unused. Closed now, as the timer would; the next viewer reopens it.
        effects.push({ type: 'cancel-grace' }, { type: 'refill-upstream', reopen: false }, { type: 'close-upstream' }, { type: 'log', line: 'the store lost upstream events and no viewer is left: closing the upstream connection; they are fetched again when it next opens' })
        return { state: { ...state, upstream: 'idle', grace: false, detail: '', retries: 0, behind: true }, effects }
      }
      const reopen = upstreamOpen(state.upstream)
      effects.push({ type: 'refill-upstream', reopen }, { type: 'log', line: `the store lost upstream events: ${reopen ? 'reconnecting the upstream to fetch them again' : 'they are fetched again when the upstream next opens'}` })
      if (!reopen) return { state: { ...state, behind: true }, effects }
      effects.push({ type: 'tell', to: 'all', code: RelayControlCode.UpstreamConnecting, detail: RefillingDetail })
      return { state: { ...state, upstream: 'connecting', detail: RefillingDetail, behind: true }, effects }
    }
    case 'stop': {
      if (state.grace) effects.push({ type: 'cancel-grace' })
      if (state.retryArmed) effects.push({ type: 'cancel-retry' })
      // A failed upstream keeps its (socketless) client subscribed, so that a retry can reconnect it.
      if (state.upstream !== 'idle') effects.push({ type: 'close-upstream' })
      return { state: { ...state, upstream: 'idle', grace: false, retryArmed: false, detail: '', retries: 0 }, effects }
    }
    case 'upstream': {
      // Statuses of a connection the relay closed, or after it failed, change nothing.
      if (!upstreamOpen(state.upstream)) return { state, effects }
      if (input.status === 'failed') {
        if (state.grace) effects.push({ type: 'cancel-grace' })
        // The client stays subscribed (no socket is open once core's client `failed`): a retry
        // calls its `reconnect()`, which keeps its identify budget.
        const ms = retryDelay(state.retries, input.random ?? 0.5, config.retry)
        const detail = retryWords(input.detail, input.at, ms)
        effects.push(
          { type: 'arm-retry', ms },
          { type: 'log', line: `upstream failed, retrying in ${ms} ms (after ${state.retries} retries): ${input.log}` },
          { type: 'refuse', to: 'all', detail },
        )
        // Held viewers get what an identify gets now, without waiting out their hold.
        if (state.held > 0) effects.push({ type: 'refuse', to: 'held', detail })
        return { state: { ...state, upstream: 'failed', grace: false, retryArmed: true, detail, held: 0 }, effects }
      }
      if (input.status === state.upstream) {
        // Reconnecting → reconnecting (a new wait): viewers were told already; keep the newest
        // words, but a retry's own until it comes live (core's would say a connection was lost).
        if (input.status !== 'connecting' || state.retries > 0) return { state, effects }
        return { state: { ...state, detail: input.detail }, effects }
      }
      if (input.status === 'connecting') {
        effects.push(
          { type: 'log', line: `upstream down: ${input.log}` },
          { type: 'tell', to: 'all', code: RelayControlCode.UpstreamConnecting, detail: input.detail },
        )
        return { state: { ...state, upstream: 'connecting', detail: input.detail }, effects }
      }
      effects.push(
        { type: 'log', line: state.retries > 0 ? `upstream live again after ${state.retries} retries` : 'upstream live' },
        { type: 'tell', to: 'all', code: RelayControlCode.UpstreamLive, detail: input.detail },
      )
      // Its replay (the gap since it closed) has arrived; viewers wait until it is stored too.
      if (state.behind) effects.push({ type: 'await-stored' })
      // A retry succeeded with no viewer (they were all refused while it failed): the upstream
      // lives on for the grace period only, as after a last viewer left.
      return { state: unwatched({ ...state, upstream: 'live', detail: '', retries: 0 }, effects, config.graceMs), effects }
    }
  }
}
