import { type ControlPayload, eventLabel, type ReceivedEvent } from '@fates-rx/core'
import { map, type Observable, type OperatorFunction, scan, startWith } from 'rxjs'
import type { Diagnostic } from './client.js'

/** One row of the live feed, already in words; the view only sets text. */
export interface FeedRow {
  /** Unique among the rows on screen: the arrival number (an event ID may arrive twice). */
  readonly key: string
  /** The event's time (`m.ts`), else its arrival time, as a local clock time. */
  readonly time: string
  /** The event name: 'bot vote', 'unknown event 99'. */
  readonly name: string
  /** `ctx.user`, or '' when the event names nobody. */
  readonly user: string
  /** Key ctx fields as `key: value` pairs, shortened. User text stays text. */
  readonly fields: string
  /** Replayed by `send_all`. */
  readonly prior: boolean
  /** Missed during a gap (a reconnect, a reload) and filled in after it (`resumed`). */
  readonly resumed: boolean
  /** The channel it came on ('global' is worth a badge; the target's own channel is not). */
  readonly chan: string
}

/**
 * What the diagnostics panel lists: core's diagnostics, and the dashboard's own (a kept tally
 * that could not be read, kind `kept-numbers`).
 */
export type PanelDiagnostic = Omit<Diagnostic, 'kind'> & { readonly kind: Diagnostic['kind'] | 'kept-numbers' }

/** One row of the control log. */
export interface ControlRow {
  readonly key: string
  readonly time: string
  readonly code: string
  readonly detail: string
  readonly remaining: string
}

/** The diagnostics panel: how many anomalies, and the last few. */
export interface DiagnosticsView {
  readonly count: number
  readonly last: readonly { readonly key: string; readonly kind: string; readonly message: string; readonly raw: string }[]
}

/** How long a shown value may be; end-user text can be arbitrarily long. */
export const maxFieldChars = 80
const maxFields = 4

const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
let lastSecond = Number.NaN
let lastClock = ''

/** The farthest a `Date` reaches from the epoch, either way (ms): beyond, formatting throws. */
const maxDateMs = 8.64e15

/**
 * A clock time (local, 24-hour, with seconds). Memoised per second: a burst shares one. A time
 * no `Date` can hold reads `''`: it comes from the wire, where `ts` is any JSON number.
 */
export function clockTime(epochMs: number): string {
  if (!(Math.abs(epochMs) <= maxDateMs)) return ''
  const second = Math.floor(epochMs / 1000)
  if (second !== lastSecond) {
    lastClock = clock.format(second * 1000)
    lastSecond = second
  }
  return lastClock
}

/**
 * A wire timestamp (unix seconds) as epoch milliseconds, or `fallback` (the arrival) when there
 * is none or no clock can show it (`1.7e15`, microseconds by mistake): one odd `ts` must not
 * throw in the middle of a burst, which would drop every event of it from the counts.
 */
const wireTime = (ts: number | undefined, fallback: number): number =>
  ts !== undefined && Math.abs(ts * 1000) <= maxDateMs ? ts * 1000 : fallback

const shorten = (text: string, max = maxFieldChars): string =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
    return value.join(', ')
  }
  return undefined
}

/**
 * The ctx fields worth a glance, as `key: value` pairs: every scalar (or list of scalars)
 * except `user`, in the order the event has them, at most four, each shortened. Works for
 * shapes the table does not know, since ctx differs per event and producers changed over time.
 */
export function summarizeContext(ctx: Readonly<Record<string, unknown>>): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(ctx)) {
    if (key === 'user') continue
    const text = scalar(value)
    if (text === undefined) continue
    parts.push(`${key}: ${shorten(text)}`)
    if (parts.length === maxFields) break
  }
  return parts.join(' · ')
}

/** A feed row for an event that arrived at `arrivedAt` as the `seq`-th of its connection. */
export function toFeedRow(event: ReceivedEvent, seq: number, arrivedAt: number): FeedRow {
  const user = event.ctx['user']
  return Object.freeze({
    key: String(seq),
    time: clockTime(wireTime(event.m.ts, arrivedAt)),
    name: eventLabel(event.m.e),
    user: typeof user === 'string' || typeof user === 'number' ? shorten(String(user), 24) : '',
    fields: summarizeContext(event.ctx),
    prior: event.prior === true,
    resumed: event.resumed === true,
    chan: event.chan ?? '',
  })
}

/**
 * Keeps the newest `length` values, newest first. Each emission is a fresh array, so a view can
 * compare it with what it drew last.
 */
export function newest<T>(length: number): OperatorFunction<T, readonly T[]> {
  if (!Number.isInteger(length) || length < 1) {
    throw new RangeError(`newest: length must be a positive integer, got ${length}`)
  }
  return (source) =>
    source.pipe(
      scan((list: readonly T[], value: T) => [value, ...list.slice(0, length - 1)], []),
      startWith([] as readonly T[]),
    )
}

/** The control log: the newest `length` control payloads as rows. */
export function controlLogView(
  control$: Observable<ControlPayload>,
  length: number,
  now: () => number,
): Observable<readonly ControlRow[]> {
  return control$.pipe(
    map(
      (payload, index): ControlRow =>
        Object.freeze({
          key: String(index + 1),
          time: clockTime(wireTime(payload.ts, now())),
          code: payload.code,
          detail: shorten(payload.detail ?? '', 140),
          // -1 before identification means "not counted yet", not a budget.
          remaining:
            payload.requests_remaining === undefined || payload.requests_remaining < 0
              ? ''
              : String(payload.requests_remaining),
        }),
    ),
    newest(length),
  )
}

/** The diagnostics panel: a running count and the newest `length` anomalies. */
export function diagnosticsView(diagnostic$: Observable<PanelDiagnostic>, length: number): Observable<DiagnosticsView> {
  return diagnostic$.pipe(
    map((d, index) =>
      Object.freeze({
        key: String(index + 1),
        kind: d.kind,
        message: shorten(d.message, 200),
        raw: shorten(d.raw ?? '', 120),
      }),
    ),
    scan(
      (view: DiagnosticsView, row) => ({ count: view.count + 1, last: [row, ...view.last.slice(0, length - 1)] }),
      { count: 0, last: [] },
    ),
    startWith({ count: 0, last: [] } as DiagnosticsView),
  )
}
