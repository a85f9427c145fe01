import {
  asyncScheduler,
  connect,
  defer,
  endWith,
  ignoreElements,
  interval,
  map,
  merge,
  type OperatorFunction,
  type SchedulerLike,
  scan,
  startWith,
  takeUntil,
} from 'rxjs'
import type { ReceivedEvent } from '../codec/index.js'
import { EventName } from '../protocol/index.js'

/** Options of {@link eventStats}. */
export interface EventStatsConfig {
  /**
   * Width of the sliding window the per-minute rates are measured over, in milliseconds.
   *
   * @default 60_000
   */
  readonly windowMs?: number
  /**
   * Emit a snapshot this often even when no event arrives, so that rates fall when traffic
   * stops. `0` emits only on events (and once on subscription).
   *
   * @default 1_000
   */
  readonly tickMs?: number
  /**
   * The clock events are timed by, and the scheduler of the ticks. Pass a `TestScheduler` (or
   * run inside `testScheduler.run`) to test in virtual time.
   *
   * @default asyncScheduler
   */
  readonly scheduler?: SchedulerLike
}

/** Defaults of {@link EventStatsConfig}, in one table. */
export const EventStatsDefaults = /* @__PURE__ */ Object.freeze({
  windowMs: 60_000,
  tickMs: 1_000,
} as const satisfies Required<Omit<EventStatsConfig, 'scheduler'>>)

/** The vote count the newest vote event carried (`ctx.votes` of a bot or server vote). */
export interface LatestVote {
  /** The target's vote count after this vote, as the event said. */
  readonly votes: number
  /** Who voted (`ctx.user` as a string), when the event named someone. */
  readonly user?: string
  /** The event's `m.ts` (unix seconds), when it had one. */
  readonly ts?: number
  /** The event's `m.e`: `EventName.BotVote` or `EventName.ServerVote`. */
  readonly e: number
}

/** One snapshot of {@link eventStats}. Every snapshot is a fresh, frozen object. */
export interface EventStats {
  /** The scheduler's time when the snapshot was taken (epoch milliseconds by default). */
  readonly at: number
  /** Every event counted since subscription, replayed ones included. */
  readonly total: number
  /** Events counted since subscription, by event name (`m.e`), replayed ones included. */
  readonly totals: Readonly<Record<number, number>>
  /** How many of {@link EventStats.total} were replayed by `send_all` (`prior: true`). */
  readonly replayed: number
  /**
   * Live events per minute by event name, measured over the sliding window. Replayed events
   * are left out: a replay of old events says nothing about the current rate. Until a whole
   * window has passed, the rate is scaled from the time observed so far (at least one second),
   * so it is an estimate from the first second rather than a slow ramp.
   */
  readonly perMinute: Readonly<Record<number, number>>
  /** The sum of {@link EventStats.perMinute}. */
  readonly perMinuteTotal: number
  /** Distinct `ctx.user` values seen (snowflakes compared as strings; `null` is nobody). */
  readonly uniqueUsers: number
  /**
   * The vote count carried by the vote event with the newest `m.ts` (events arrive out of
   * order, so the last to arrive is not necessarily the newest), or `null` before any vote.
   */
  readonly latestVote: LatestVote | null
}

/** The stats before any event, at time 0: what a view shows before the first snapshot. */
export const NoEventStats: EventStats = /* @__PURE__ */ Object.freeze({
  at: 0,
  total: 0,
  totals: /* @__PURE__ */ Object.freeze({}),
  replayed: 0,
  perMinute: /* @__PURE__ */ Object.freeze({}),
  perMinuteTotal: 0,
  uniqueUsers: 0,
  latestVote: null,
})

const voteEvents: ReadonlySet<number> = new Set([EventName.BotVote, EventName.ServerVote])

type Step = { readonly kind: 'event'; readonly event: ReceivedEvent } | { readonly kind: 'tick' }

// Stryker disable next-line ObjectLiteral,StringLiteral: equivalent: a step is told apart only by `kind === 'event'`.
const tick: Step = Object.freeze({ kind: 'tick' })

/**
 * Running totals, sliding-window rates and the sets behind them. Mutable on purpose: one
 * instance lives per subscription (made in `defer`) and only frozen copies leave it.
 */
class Accumulator {
  private readonly totals = new Map<number, number>()
  private readonly inWindow = new Map<number, number>()
  // A queue of live arrivals as two parallel arrays with a moving head: at 1000 events per
  // second a 60 s window holds 60 000 entries, too many to shift one by one.
  private times: number[] = []
  private names: number[] = []
  private head = 0
  private readonly users = new Set<string>()
  private total = 0
  private replayed = 0
  private latestVote: LatestVote | null = null

  constructor(
    private readonly windowMs: number,
    private readonly startedAt: number,
  ) {}

  add(event: ReceivedEvent, now: number): void {
    const e = event.m.e
    this.total += 1
    this.totals.set(e, (this.totals.get(e) ?? 0) + 1)
    if (event.prior === true) {
      this.replayed += 1
    } else {
      this.times.push(now)
      this.names.push(e)
      this.inWindow.set(e, (this.inWindow.get(e) ?? 0) + 1)
    }
    const user = event.ctx['user']
    if (typeof user === 'string' || typeof user === 'number') this.users.add(String(user))
    this.noteVote(event)
  }

  private noteVote(event: ReceivedEvent): void {
    const votes = event.ctx['votes']
    if (!voteEvents.has(event.m.e) || typeof votes !== 'number') return
    const ts = event.m.ts
    const current = this.latestVote
    // A vote without a timestamp cannot be placed in time; it only wins over others like it.
    const newer =
      current === null || (ts === undefined ? current.ts === undefined : (current.ts ?? -Infinity) <= ts)
    if (!newer) return
    const user = event.ctx['user']
    this.latestVote = Object.freeze({
      votes,
      e: event.m.e,
      ...(typeof user === 'string' || typeof user === 'number' ? { user: String(user) } : {}),
      ...(ts === undefined ? {} : { ts }),
    })
  }

  evict(now: number): void {
    const oldest = now - this.windowMs
    // (Two equivalent mutants, left counted: `true &&` and `<=` for the bounds check, which the
    // `?? Infinity` after it repeats: past the end nothing is older than the window.)
    while (this.head < this.times.length && (this.times[this.head] ?? Infinity) <= oldest) {
      const e = this.names[this.head] as number
      const left = (this.inWindow.get(e) ?? 1) - 1
      if (left === 0) this.inWindow.delete(e)
      else this.inWindow.set(e, left)
      this.head += 1
    }
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: when to drop the evicted head changes memory and cost, never a count (a test crosses it with two names).
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head)
      this.names = this.names.slice(this.head)
      this.head = 0
    }
  }

  snapshot(now: number): EventStats {
    const span = Math.min(this.windowMs, Math.max(now - this.startedAt, 1_000))
    const scale = 60_000 / span
    const perMinute: Record<number, number> = {}
    let perMinuteTotal = 0
    for (const [e, count] of this.inWindow) {
      perMinute[e] = count * scale
      perMinuteTotal += count * scale
    }
    return Object.freeze({
      at: now,
      total: this.total,
      totals: Object.freeze(Object.fromEntries(this.totals)) as Readonly<Record<number, number>>,
      replayed: this.replayed,
      perMinute: Object.freeze(perMinute),
      perMinuteTotal,
      uniqueUsers: this.users.size,
      latestVote: this.latestVote,
    })
  }
}

function checkConfig(config: EventStatsConfig): { windowMs: number; tickMs: number } {
  const windowMs = config.windowMs ?? EventStatsDefaults.windowMs
  const tickMs = config.tickMs ?? EventStatsDefaults.tickMs
  if (!Number.isFinite(windowMs) || windowMs <= 0) {
    throw new RangeError(`eventStats: windowMs must be a positive number of milliseconds, got ${windowMs}`)
  }
  if (!Number.isFinite(tickMs) || tickMs < 0) {
    throw new RangeError(`eventStats: tickMs must be 0 or a positive number of milliseconds, got ${tickMs}`)
  }
  return { windowMs, tickMs }
}

/**
 * Live statistics of an event stream: totals by event name, per-minute rates over a sliding
 * window, unique users and the latest vote count. Emits a zero snapshot on subscription, one
 * snapshot per event, and one every `tickMs` so that rates decay when traffic stops; completes
 * when the source completes. Pure: the only clock is `scheduler`.
 *
 * Emitting per event is cheap (a few small objects); a view should sample the snapshots (for
 * example once per animation frame) rather than render each one.
 *
 * Duplicates are counted as they come: pipe replays through an `eid` dedupe first when the
 * source may deliver an event twice.
 *
 * @example
 * client.event$.pipe(eventStats({ windowMs: 60_000 })).subscribe((s) => {
 *   console.log(s.totals[EventName.BotVote] ?? 0, s.perMinute[EventName.BotVote] ?? 0)
 * })
 */
export function eventStats(config: EventStatsConfig = {}): OperatorFunction<ReceivedEvent, EventStats> {
  const { windowMs, tickMs } = checkConfig(config)
  const scheduler = config.scheduler ?? asyncScheduler
  return (source) =>
    defer(() => {
      const stats = new Accumulator(windowMs, scheduler.now())
      return source.pipe(
        connect((shared) => {
          const events = shared.pipe(map((event): Step => ({ kind: 'event', event })))
          if (tickMs === 0) return events
          // Stryker disable next-line BooleanLiteral: equivalent: takeUntil stops on any value.
          const done = shared.pipe(ignoreElements(), endWith(true))
          return merge(events, interval(tickMs, scheduler).pipe(map(() => tick), takeUntil(done)))
        }),
        scan((acc, step) => {
          const now = scheduler.now()
          if (step.kind === 'event') acc.add(step.event, now)
          acc.evict(now)
          return acc
        }, stats),
        startWith(stats),
        map((acc) => acc.snapshot(scheduler.now())),
      )
    })
}
