import { type EventStats, eventStats } from '@fates-rx/core'
import { asyncScheduler, type Observable, type SchedulerLike, share, shareReplay } from 'rxjs'
import type { DashboardClient } from './client.js'
import {
  type ControlRow,
  controlLogView,
  type DiagnosticsView,
  diagnosticsView,
  type FeedRow,
  feedView,
} from './feed.js'
import { feedAnnouncements } from './announce.js'
import { type StatusView, statusView } from './status.js'
import { type ChartData, chartView } from './tiles.js'

/** Options of {@link targetView}. */
export interface TargetViewConfig {
  /**
   * The sliding window of the per-minute rates, in milliseconds.
   *
   * @default 60_000
   */
  readonly windowMs?: number
  /**
   * How many events the live feed keeps.
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
   * How much history the chart shows, in milliseconds.
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
}

/** Defaults of {@link TargetViewConfig}. */
export const TargetViewDefaults = Object.freeze({
  windowMs: 60_000,
  feedLength: 50,
  controlLogLength: 30,
  diagnosticsLength: 5,
  chartSpanMs: 300_000,
  announceEveryMs: 10_000,
} as const satisfies Required<Omit<TargetViewConfig, 'scheduler'>>)

/** Everything one target's panel renders, as streams of ready-to-draw values (no DOM). */
export interface TargetView {
  readonly status$: Observable<StatusView>
  /** One snapshot per event and per second; word it with `tilesOf` after sampling. */
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
  const stats$ = event$.pipe(
    eventStats({ windowMs: config.windowMs ?? TargetViewDefaults.windowMs, scheduler }),
    shareReplay({ bufferSize: 1, refCount: true }),
  )
  return {
    status$: statusView({ status$: client.status$, event$, control$, metrics$: client.metrics$ }, scheduler),
    stats$,
    chart$: chartView(stats$, { spanMs: config.chartSpanMs ?? TargetViewDefaults.chartSpanMs, scheduler }),
    feed$: feedView(event$, config.feedLength ?? TargetViewDefaults.feedLength, now),
    controlLog$: controlLogView(control$, config.controlLogLength ?? TargetViewDefaults.controlLogLength, now),
    diagnostics$: diagnosticsView(
      client.diagnostic$,
      config.diagnosticsLength ?? TargetViewDefaults.diagnosticsLength,
    ),
    feedAnnouncement$: feedAnnouncements(event$, config.announceEveryMs ?? TargetViewDefaults.announceEveryMs, scheduler),
  }
}
