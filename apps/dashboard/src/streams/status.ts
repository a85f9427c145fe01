import type { ConnectionMetrics, ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { RelayCloseInfo, RelayControlCode } from '@fates-rx/core/protocol'
import {
  asyncScheduler,
  map,
  merge,
  type Observable,
  type SchedulerLike,
  scan,
  switchMap,
  timer,
  filter,
  of,
  EMPTY,
  distinctUntilChanged,
} from 'rxjs'
import type { ConnectionState, ConnectionStatus, TabRole } from './client.js'
import { clockTime } from './feed.js'

/** How a status line should look: a colour family, not a colour. */
export type StatusTone = 'idle' | 'busy' | 'ok' | 'warn' | 'bad'

/** The connection status in words a person understands. */
export interface StatusView {
  readonly state: ConnectionState | 'idle'
  readonly tone: StatusTone
  /** One short line: "Live", "Reconnecting in 3 s (attempt 2)", "Failed: not retrying". */
  readonly headline: string
  /** Supporting facts, one per line: the last close and its meaning, time to ready, budget. */
  readonly lines: readonly string[]
  /**
   * What a screen reader is told: the state in words, without the numbers that tick (the
   * countdown, the replay progress), so that it changes only when the state does.
   */
  readonly spoken: string
  /** With a connection shared across tabs: this tab's part, and the words for it. */
  readonly tabs?: TabsView
}

/** A tab's part in a shared connection, in words. */
export interface TabsView {
  readonly role: TabRole
  /** How many tabs share the connection now, this one included. */
  readonly count: number
  /** "Leader: this tab holds the connection 3 tabs share". */
  readonly words: string
}

/** The words for a tab's part in a shared connection. */
export function describeTabs(tabs: { readonly role: TabRole; readonly count: number }): TabsView {
  const words =
    tabs.role === 'worker'
      ? tabs.count > 1
        ? `Worker: ${plural(tabs.count, 'tab')} share the connection a SharedWorker holds`
        : 'Worker: a SharedWorker holds the connection, no other tab shares it'
      : tabs.role === 'follower'
      ? `Follower: ${plural(tabs.count, 'tab')} share the connection another tab holds`
      : tabs.count > 1
        ? `Leader: this tab holds the connection ${plural(tabs.count, 'tab')} share`
        : 'Leader: this tab holds the connection, no other tab shares it'
  return Object.freeze({ role: tabs.role, count: tabs.count, words })
}

/** What {@link describeStatus} needs besides the clock. */
export interface StatusFacts {
  readonly status: ConnectionStatus
  /** How long the last successful identify took, from the attempt's start to `ready`. */
  readonly readyInMs?: number | undefined
  /** Replayed (`send_all`) events received on the current connection. */
  readonly replayed: number
  /** The newest `requests_remaining` a control payload or the status carried. */
  readonly requestsRemaining?: number | undefined
  /**
   * Connected to a relay whose upstream is down: the relay's words from its
   * `upstream_connecting` or `upstream_retrying` payload, until `upstream_live` (or a new connection attempt).
   */
  readonly upstreamDown?: string | undefined
  /**
   * The last gap (a reconnect's, or a reload's filled by the tab or worker holding the
   * connection) was not known to be filled (`gap: 'unknown'`): some of its events may be
   * missing from the numbers. Kept until the next connection attempt: the statuses that follow
   * (a count of tabs, a countdown) carry the holder's own gap, which may say otherwise.
   */
  readonly gapUnknown?: boolean | undefined
}

/** What the status says while the last gap may be missing events. */
export const GapUnknownLine = 'Some events may be missing: the history did not reach back over the last gap (a long disconnect or reload).'

/** The status shown before a target is connected. */
export const idleStatus: StatusView = Object.freeze({
  state: 'idle',
  tone: 'idle',
  headline: 'Not connected',
  lines: Object.freeze(['Fill in the target and press Connect.']),
  spoken: 'Not connected',
})

const tones = Object.freeze({
  connecting: 'busy',
  identifying: 'busy',
  replaying: 'busy',
  live: 'ok',
  reconnecting: 'warn',
  closed: 'idle',
  failed: 'bad',
} as const satisfies Record<ConnectionState, StatusTone>)

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** A wait at least this long is shown as the clock time it ends and a countdown in minutes. */
export const LongWaitMs = 60_000


/** A countdown in words: `45 s`, `6 min 58 s`. */
export function countdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000))
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`
}

/**
 * The words for a status at time `now` (epoch milliseconds). Pure, so that the countdown can be
 * re-rendered every second from the same facts.
 */
export function describeStatus(facts: StatusFacts, now: number): StatusView {
  const { status } = facts
  const attempt = status.attempt !== undefined && status.attempt > 1 ? ` (attempt ${status.attempt})` : ''
  let headline: string
  let spoken: string
  switch (status.state) {
    case 'connecting':
      headline = `Connecting${attempt}…`
      spoken = `Connecting${attempt}`
      break
    case 'identifying':
      headline = `Identifying${attempt}…`
      spoken = `Identifying${attempt}`
      break
    case 'replaying':
      headline = `Replaying prior events: ${facts.replayed} received…`
      spoken = 'Replaying prior events'
      break
    case 'live':
      // "connecting", not "reconnecting": a relay's first opening says upstream_connecting too,
      // and the relay's own words (the Relay line below) say which it is.
      headline = facts.upstreamDown === undefined ? 'Live' : "Live, but the relay's upstream is connecting"
      // The warning the page shows in its tone is said too: a screen reader has no tone.
      spoken = facts.gapUnknown === true ? `${headline}. Some events may be missing` : headline
      break
    case 'reconnecting': {
      const at = status.nextRetryAt
      if (at !== undefined && at - status.since >= LongWaitMs) {
        // A long wait (the ratelimit window, often right after a page load): when, by the clock.
        headline = `Connects at ${clockTime(at)} (in ${countdown(at - now)})`
        spoken = `Waiting to connect at ${clockTime(at)}`
      } else {
        headline = at === undefined ? `Reconnecting${attempt}…` : `Reconnecting in ${Math.max(0, Math.ceil((at - now) / 1000))} s${attempt}`
        spoken = `Reconnecting${attempt}`
      }
      break
    }
    case 'closed':
      headline = 'Disconnected'
      spoken = headline
      break
    case 'failed':
      headline = 'Failed: not retrying'
      spoken = status.close === undefined ? headline : `${headline}. ${status.close.meaning}`
      break
  }
  const lines: string[] = []
  if (status.close !== undefined && status.state !== 'live') {
    // A relay's close code is not core's to explain; the shared relay table is.
    const meaning = (RelayCloseInfo as Readonly<Record<number, { meaning: string } | undefined>>)[status.close.code]?.meaning
    lines.push(`Last close: ${status.close.code}. ${meaning ?? status.close.meaning}`)
  }
  if (facts.upstreamDown !== undefined && isReady(status.state)) lines.push(`Relay: ${facts.upstreamDown}`)
  if (facts.gapUnknown === true && isReady(status.state)) lines.push(GapUnknownLine)
  if (status.detail !== undefined && status.detail !== '') lines.push(status.detail)
  if (facts.readyInMs !== undefined && (status.state === 'live' || status.state === 'replaying')) {
    lines.push(`Ready in ${Math.round(facts.readyInMs)} ms`)
  }
  if (status.state === 'live' && facts.replayed > 0) {
    lines.push(`${plural(facts.replayed, 'prior event')} replayed`)
  }
  const remaining = status.requestsRemaining ?? facts.requestsRemaining
  if (remaining !== undefined && remaining >= 0) {
    lines.push(`${plural(remaining, 'request')} remaining in the ratelimit window`)
  }
  const tone = status.state === 'live' && (facts.upstreamDown !== undefined || facts.gapUnknown === true) ? 'warn' : tones[status.state]
  const view = { state: status.state, tone, headline, lines: Object.freeze(lines), spoken }
  return Object.freeze(status.tabs === undefined ? view : { ...view, tabs: describeTabs(status.tabs) })
}

type Input =
  | { readonly kind: 'status'; readonly status: ConnectionStatus }
  | { readonly kind: 'prior' }
  /** The client's metrics: with a shared connection, those of the tab that holds it. */
  | { readonly kind: 'metrics'; readonly readyInMs: number }
  /**
   * A control payload's news: the budget it reports, and behind a relay whether its upstream
   * went down (the relay's words) or came back (`null`).
   */
  | { readonly kind: 'control'; readonly remaining: number | undefined; readonly upstreamDown: string | null | undefined }

interface Acc {
  readonly facts: StatusFacts | undefined
  readonly attemptStartedAt: number | undefined
}

const startsAttempt = (state: ConnectionState): boolean => state === 'connecting'
const isReady = (state: ConnectionState): boolean => state === 'replaying' || state === 'live'

function step(acc: Acc, input: Input): Acc {
  const facts = acc.facts
  switch (input.kind) {
    case 'prior':
      return facts === undefined ? acc : { ...acc, facts: { ...facts, replayed: facts.replayed + 1 } }
    case 'metrics':
      // The holder's own measure: a follower did not make the connection it shows.
      return facts === undefined || !isReady(facts.status.state) ? acc : { ...acc, facts: { ...facts, readyInMs: input.readyInMs } }
    case 'control': {
      if (facts === undefined) return acc
      const requestsRemaining = input.remaining ?? facts.requestsRemaining
      const upstreamDown = input.upstreamDown === undefined ? facts.upstreamDown : (input.upstreamDown ?? undefined)
      return { ...acc, facts: { ...facts, requestsRemaining, upstreamDown } }
    }
    case 'status': {
      const { status } = input
      if (startsAttempt(status.state)) {
        return {
          attemptStartedAt: status.since,
          facts: { status, replayed: 0, readyInMs: undefined, requestsRemaining: facts?.requestsRemaining, gapUnknown: status.gap === 'unknown' },
        }
      }
      const becameReady = isReady(status.state) && (facts === undefined || !isReady(facts.status.state))
      // Timed from this tab's own `connecting` only when this tab made the connection: a
      // follower joins a connection another tab made, maybe long before (its `since` is the
      // holder's), and takes the holder's time from its metrics instead.
      const own = becameReady && acc.attemptStartedAt !== undefined && (status.tabs?.role ?? 'leader') === 'leader' ? status.since - acc.attemptStartedAt : undefined
      const readyInMs = own !== undefined && own >= 0 ? own : becameReady ? undefined : facts?.readyInMs
      return {
        ...acc,
        facts: {
          status,
          replayed: facts?.replayed ?? 0,
          readyInMs,
          requestsRemaining: facts?.requestsRemaining,
          upstreamDown: facts?.upstreamDown,
          // Cleared only by a new attempt: the statuses after it re-send the holder's own gap,
          // which may say `filled` of an older gap while this one is still missing events.
          gapUnknown: status.gap === 'unknown' || facts?.gapUnknown === true,
        },
      }
    }
  }
}

/**
 * The status line of one client: its state machine in words, the replay progress counted from
 * `event$`, the ratelimit budget from `control$`, behind a relay whether the relay's upstream
 * is down (its `upstream_*` payloads), and while reconnecting a countdown that re-renders every
 * second.
 */
export function statusView(
  client: {
    readonly status$: Observable<ConnectionStatus>
    readonly event$: Observable<ReceivedEvent>
    readonly control$: Observable<ControlPayload>
    /** With it, time to ready is the one the connection's holder measured (`connectToReadyMs`). */
    readonly metrics$?: Observable<ConnectionMetrics> | undefined
  },
  scheduler: SchedulerLike = asyncScheduler,
): Observable<StatusView> {
  const inputs = merge(
    client.status$.pipe(map((status): Input => ({ kind: 'status', status }))),
    client.event$.pipe(
      filter((event) => event.prior === true),
      map((): Input => ({ kind: 'prior' })),
    ),
    client.control$.pipe(
      map((payload): Input => {
        const remaining = payload.requests_remaining
        return {
          kind: 'control',
          remaining: remaining !== undefined && remaining >= 0 ? remaining : undefined,
          upstreamDown:
            // A retry of the relay's failed upstream is one more way of it being down.
            payload.code === RelayControlCode.UpstreamConnecting || payload.code === RelayControlCode.UpstreamRetrying
              ? (payload.detail ?? '')
              : payload.code === RelayControlCode.UpstreamLive
                ? null
                : undefined,
        }
      }),
      filter((input) => input.kind === 'control' && (input.remaining !== undefined || input.upstreamDown !== undefined)),
    ),
    (client.metrics$ ?? EMPTY).pipe(
      map((metrics) => metrics.connectToReadyMs),
      filter((ms): ms is number => ms !== undefined),
      distinctUntilChanged(),
      map((readyInMs): Input => ({ kind: 'metrics', readyInMs })),
    ),
  )
  return inputs.pipe(
    scan(step, { facts: undefined, attemptStartedAt: undefined } as Acc),
    map((acc) => acc.facts),
    filter((facts): facts is StatusFacts => facts !== undefined),
    switchMap((facts) =>
      facts.status.state === 'reconnecting' && facts.status.nextRetryAt !== undefined
        ? timer(0, 1_000, scheduler).pipe(map(() => describeStatus(facts, scheduler.now())))
        : of(describeStatus(facts, scheduler.now())),
    ),
  )
}
