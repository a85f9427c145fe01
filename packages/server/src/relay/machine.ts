import { RelayControlCode } from '@fates-rx/core/protocol'

/**
 * Where a relayed target's upstream connection is, as viewers and `/metrics` see it:
 * - `idle`: no upstream connection (no viewer yet, or the grace period after the last one ran out).
 * - `connecting`: an upstream connection is opening, or reconnecting after a drop (core's
 *   `connecting`, `identifying`, `replaying` and `reconnecting`).
 * - `live`: the upstream delivers events (a reconnect's gap, if any, filled).
 * - `failed`: the upstream refused the relay for good (core's `failed`: a 4004, a 1009, a wrong
 *   URL); the relay does not retry it until it is restarted.
 */
export type UpstreamStatus = 'idle' | 'connecting' | 'live' | 'failed'

/** Every {@link UpstreamStatus}, in the order `/metrics` lists them. */
export const UpstreamStatuses: readonly UpstreamStatus[] = Object.freeze(['idle', 'connecting', 'live', 'failed'])

/** One relayed target's state: how many viewers, and where its upstream is. */
export interface TargetState {
  /** Viewers identified for this target and still connected. */
  readonly viewers: number
  /** Where the upstream connection is. */
  readonly upstream: UpstreamStatus
  /** True while the grace timer runs (no viewer left, the upstream kept open). */
  readonly grace: boolean
  /** What viewers are told about the upstream while it is `connecting` or `failed`. */
  readonly detail: string
}

/** What the relay's edge tells the machine. Time enters only as `grace-expired`. */
export type TargetInput =
  /** A viewer identified for this target (after its `ready` was queued). */
  | { readonly type: 'viewer-joined' }
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
    }

/** Who a control payload or a refusal goes to: the viewer that just joined, or every viewer. */
export type Audience = 'joined' | 'all'

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
  /** Send a control payload to viewers. */
  | { readonly type: 'tell'; readonly to: Audience; readonly code: string; readonly detail: string }
  /** Send `upstream_failed` with `detail` to viewers, then close them with 4503. */
  | { readonly type: 'refuse'; readonly to: Audience; readonly detail: string }
  /** Write a log line (never a token or a URL). */
  | { readonly type: 'log'; readonly line: string }

/** The result of one {@link step}. */
export interface TargetStep {
  readonly state: TargetState
  readonly effects: readonly TargetEffect[]
}

/** The machine's one setting. */
export interface TargetConfig {
  /** How long the upstream stays open after the last viewer left (milliseconds; 0: closes at once). */
  readonly graceMs: number
}

/** What viewers are told while the first upstream connection opens. */
export const OpeningDetail = 'The relay is connecting to its upstream; events follow once it is live.'

/** A target with no viewer and no upstream connection. */
export const IdleTarget: TargetState = Object.freeze({ viewers: 0, upstream: 'idle', grace: false, detail: '' })

/** Whether an upstream connection exists (open, opening or reconnecting). */
const open = (status: UpstreamStatus): boolean => status === 'connecting' || status === 'live'

/**
 * The relay's decisions for one target, sans I/O: viewers joining and leaving, the grace timer,
 * and the upstream client's status go in; what to do comes out. One upstream connection exists
 * while at least one viewer is connected and for `graceMs` after the last one left; it is never
 * reopened once it `failed` (core's close policy decided it cannot succeed, and viewers must not
 * turn that into a retry storm).
 */
export function step(state: TargetState, input: TargetInput, config: TargetConfig): TargetStep {
  const effects: TargetEffect[] = []
  switch (input.type) {
    case 'viewer-joined': {
      let next: TargetState = { ...state, viewers: state.viewers + 1 }
      if (next.grace) {
        effects.push({ type: 'cancel-grace' })
        next = { ...next, grace: false }
      }
      if (next.upstream === 'idle') {
        effects.push({ type: 'open-upstream' }, { type: 'log', line: 'opening the upstream connection (first viewer)' })
        next = { ...next, upstream: 'connecting', detail: OpeningDetail }
      }
      if (next.upstream === 'connecting') {
        effects.push({ type: 'tell', to: 'joined', code: RelayControlCode.UpstreamConnecting, detail: next.detail })
      } else if (next.upstream === 'failed') {
        effects.push({ type: 'refuse', to: 'joined', detail: next.detail })
      }
      return { state: next, effects }
    }
    case 'viewer-left': {
      const viewers = Math.max(0, state.viewers - 1)
      let next: TargetState = { ...state, viewers }
      if (viewers === 0 && open(state.upstream) && !state.grace) {
        if (config.graceMs === 0) {
          effects.push({ type: 'close-upstream' }, { type: 'log', line: 'closing the upstream connection (no viewer left)' })
          next = { ...next, upstream: 'idle', detail: '' }
        } else {
          effects.push({ type: 'arm-grace', ms: config.graceMs })
          next = { ...next, grace: true }
        }
      }
      return { state: next, effects }
    }
    case 'grace-expired': {
      // A timer cancelled too late (a viewer joined in the same turn) may still fire: ignored.
      if (!state.grace) return { state, effects }
      if (state.viewers > 0 || !open(state.upstream)) return { state: { ...state, grace: false }, effects }
      effects.push(
        { type: 'close-upstream' },
        { type: 'log', line: `closing the upstream connection (no viewer for ${config.graceMs} ms)` },
      )
      return { state: { ...state, grace: false, upstream: 'idle', detail: '' }, effects }
    }
    case 'upstream': {
      // Statuses of a connection the relay closed, or after it failed, change nothing.
      if (!open(state.upstream)) return { state, effects }
      if (input.status === 'failed') {
        if (state.grace) effects.push({ type: 'cancel-grace' })
        effects.push(
          { type: 'close-upstream' },
          { type: 'log', line: `upstream failed for good, not retrying until restarted: ${input.log}` },
          { type: 'refuse', to: 'all', detail: input.detail },
        )
        return { state: { ...state, upstream: 'failed', grace: false, detail: input.detail }, effects }
      }
      if (input.status === state.upstream) {
        // Reconnecting → reconnecting (a new wait): viewers were told already; keep the newest words.
        return { state: { ...state, detail: input.status === 'connecting' ? input.detail : state.detail }, effects }
      }
      if (input.status === 'connecting') {
        effects.push(
          { type: 'log', line: `upstream down: ${input.log}` },
          { type: 'tell', to: 'all', code: RelayControlCode.UpstreamConnecting, detail: input.detail },
        )
        return { state: { ...state, upstream: 'connecting', detail: input.detail }, effects }
      }
      effects.push(
        { type: 'log', line: 'upstream live' },
        { type: 'tell', to: 'all', code: RelayControlCode.UpstreamLive, detail: input.detail },
      )
      return { state: { ...state, upstream: 'live', detail: '' }, effects }
    }
  }
}
