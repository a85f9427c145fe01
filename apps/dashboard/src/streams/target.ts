import type { EventStats } from '@fates-rx/core'
import {
  asapScheduler,
  asyncScheduler,
  combineLatest,
  distinctUntilChanged,
  map,
  merge,
  type Observable,
  of,
  type SchedulerLike,
  share,
  shareReplay,
  switchMap,
  throttleTime,
  timer,
} from 'rxjs'
import type { DashboardClient } from './client.js'
import { type ControlRow, controlLogView, type DiagnosticsView, diagnosticsView, type FeedRow, type PanelDiagnostic } from './feed.js'
import { feedAnnouncements } from './announce.js'
import { chartOf, emptyTally, statsOf, type Tally } from './kept.js'
import { type StatusView, statusView } from './status.js'
import { tally } from './tally.js'
import type { ChartData } from './tiles.js'

/** Options of {@link targetView}. */
export interface TargetViewConfig {
  /**
   * The sliding window of the per-minute rates, in milliseconds.
   *
   * @default 60_000
   */
  readonly windowMs?: number
  /**
   * How many events the live feed keeps: at most the 50 a kept tally holds (`TallyBounds.feed`).
   *
   * @default 50
   */
  readonly feedLength?: number
  /**
   * How many control payloads the control log keeps.
   *
   * @default 30
   */
  readonly controlLogLength?: number
  /**
   * How many decode failures the diagnostics panel shows (the count covers all).
   *
   * @default 5
   */
  readonly diagnosticsLength?: number
  /**
   * How much history the chart shows, in milliseconds. The kept tally holds 360 s of arrivals
   * (`TallyBounds.seconds`): with the default 60 s rate window, a chart longer than 300 s starts
   * with rates that miss their oldest arrivals.
   *
   * @default 300_000
   */
  readonly chartSpanMs?: number
  /**
   * A screen reader hears a summary of the live feed at most this often (milliseconds): long
   * enough for the sentence to be spoken and for the reader's other announcements to get a turn.
   *
   * @default 10_000
   */
  readonly announceEveryMs?: number
  /** The clock of stats, countdowns and chart samples. @default asyncScheduler */
  readonly scheduler?: SchedulerLike
  /**
   * What the tiles, chart and feed start from: the tally kept before a reload. Its event IDs
   * drop the events it already counted when the resumed gap delivers them again.
   *
   * @default an empty tally
   */
  readonly kept?: Tally
  /** Why a kept tally could not be read (the view starts empty and lists it under Diagnostics). */
  readonly keptProblem?: string
}

/** Defaults of {@link TargetViewConfig}. */
export const TargetViewDefaults = Object.freeze({
  windowMs: 60_000,
  feedLength: 50,
  controlLogLength: 30,
  diagnosticsLength: 5,
  chartSpanMs: 300_000,
  announceEveryMs: 10_000,
} as const satisfies Required<Omit<TargetViewConfig, 'scheduler' | 'kept' | 'keptProblem'>>)

/** Everything one target's panel renders, as streams of ready-to-draw values (no DOM). */
export interface TargetView {
  readonly status$: Observable<StatusView>
  /** What the tiles, chart and feed are drawn from, after each burst that counted something: the part to keep. */
  readonly tally$: Observable<Tally>
  /** One snapshot per burst of events and per second; word it with `tilesOf` after sampling. */
  readonly stats$: Observable<EventStats>
  readonly chart$: Observable<ChartData>
  readonly feed$: Observable<readonly FeedRow[]>
  readonly controlLog$: Observable<readonly ControlRow[]>
  readonly diagnostics$: Observable<DiagnosticsView>
  /** What a screen reader hears about the feed: a summary at most once per `announceEveryMs`. */
  readonly feedAnnouncement$: Observable<string>
}

/**
 * Wires one client's streams into view state. Each source is shared, so the view's several
 * subscriptions reach the client once; the view decides how often to draw.
 */
export function targetView(client: DashboardClient, config: TargetViewConfig = {}): TargetView {
  const scheduler = config.scheduler ?? asyncScheduler
  const now = (): number => scheduler.now()
  const event$ = client.event$.pipe(share())
  const control$ = client.control$.pipe(share())
  const windowMs = config.windowMs ?? TargetViewDefaults.windowMs
  const spanMs = config.chartSpanMs ?? TargetViewDefaults.chartSpanMs
  const feedLength = config.feedLength ?? TargetViewDefaults.feedLength
  // Folded per microtask: by the time any other task runs (a pagehide that keeps the numbers),
  // everything delivered is counted, as core's resume mark says it is.
  const tally$ = event$.pipe(tally(config.kept ?? emptyTally(now()), config.scheduler ?? asapScheduler), shareReplay({ bufferSize: 1, refCount: true }))
  // Each count at once, then every second while nothing arrives, so that rates fall.
  const stats$ = tally$.pipe(
    switchMap((t) => timer(0, 1_000, scheduler).pipe(map(() => statsOf(t, now(), windowMs)))),
    shareReplay({ bufferSize: 1, refCount: true }),
  )
  const chart$ = combineLatest([tally$, timer(0, 1_000, scheduler)]).pipe(
    throttleTime(1_000, scheduler, { leading: true, trailing: true }),
    map(([t]) => chartOf(t, now(), spanMs, windowMs)),
  )
  const feed$ = tally$.pipe(
    map((t) => t.feed),
    distinctUntilChanged(),
    map((rows) => rows.slice(0, feedLength)),
  )
  const keptProblem: PanelDiagnostic[] =
    config.keptProblem === undefined
      ? []
      : [{ kind: 'kept-numbers', message: `The numbers kept before this load were unreadable (${config.keptProblem}); counting from zero.`, raw: '' }]
  return {
    status$: statusView({ status$: client.status$, event$, control$, metrics$: client.metrics$ }, scheduler),
    tally$,
    stats$,
    chart$,
    feed$,
    controlLog$: controlLogView(control$, config.controlLogLength ?? TargetViewDefaults.controlLogLength, now),
    diagnostics$: diagnosticsView(
      merge(of(...keptProblem), client.diagnostic$),
      config.diagnosticsLength ?? TargetViewDefaults.diagnosticsLength,
    ),
    feedAnnouncement$: feedAnnouncements(tally$, config.announceEveryMs ?? TargetViewDefaults.announceEveryMs, scheduler),
  }
}
