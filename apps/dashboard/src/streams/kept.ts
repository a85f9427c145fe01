import { type EventStats, EventName, type LatestVote, type ReceivedEvent } from '@fates-rx/core'
import { type FeedRow, toFeedRow } from './feed.js'
import { type ChartData, StatGroups } from './tiles.js'

// What the tiles, the chart and the feed show, kept small enough to write to localStorage after
// every burst and to read back on the next load. Pure data and pure functions: no clock but the
// `now` passed in, no storage (view/kept-store.ts writes it).

/** How much a {@link Tally} keeps. Every bound holds for any input, however long it runs. */
export const TallyBounds = Object.freeze({
  /** Distinct event names counted by name; further names are counted under {@link OtherName}. */
  names: 128,
  /**
   * One-second buckets of live arrivals: the chart's 300 s plus the 60 s rate window before its
   * first point.
   */
  seconds: 360,
  /** Feed rows. */
  feed: 50,
  /** Recent event IDs: an event whose `eid` is among them is not counted again. */
  eids: 512,
  /** `m.ts` spans counted without a gap ({@link Tally.spans}); the oldest are forgotten first. */
  spans: 16,
  /** Users remembered for the unique-user count (exact up to this many, then an upper bound). */
  users: 2_000,
  /** The longest serialised tally, in characters. */
  chars: 128 * 1024,
} as const)

/**
 * `user` values that name no one (core's codec/CONTEXTS.md): an invite's `"0"` for a visitor
 * who was not logged in and `"None"` when the API asked. The unique-user count leaves them out.
 */
const NoUser: ReadonlySet<string> = new Set(['0', 'None'])

/** The key events beyond {@link TallyBounds.names} distinct names are counted under. */
export const OtherName = -1

/**
 * A range of `m.ts` (unix seconds) delivered without a gap and counted: every event stamped
 * strictly between `from` and `to`, and the events `first` and `last` (eid keys, `''` for
 * none) stamped at its ends. Another event sharing an end's stamp may have been published just
 * outside the delivery, so it is not claimed.
 */
export type Span = readonly [from: number, to: number, first: string, last: string]

/**
 * The span the stream is extending now: its events arrive without a gap between them. `prior`
 * while it is a `send_all` replay, which is ordered by `m.ts` (core's `orderReplay`) and covers
 * the server's history from its first event to its last.
 */
export interface Run {
  readonly span: Span
  readonly prior: boolean
}

/** Live arrivals in one second: the second (unix seconds) and counts by event name. */
export interface Bucket {
  readonly s: number
  readonly n: Readonly<Record<string, number>>
}

/**
 * Everything the tiles, the chart and the feed draw, bounded by {@link TallyBounds}. Frozen;
 * {@link addEvents} returns a new one.
 */
export interface Tally {
  /** The format, for a stored tally written by another version. */
  readonly v: 1
  /** When counting began (epoch milliseconds): rates are scaled by the time seen so far. */
  readonly since: number
  readonly total: number
  readonly replayed: number
  /** Counts by event name (`m.e` as a string key). */
  readonly totals: Readonly<Record<string, number>>
  readonly uniqueUsers: number
  /** Hashes of the newest users, oldest first. */
  readonly users: readonly string[]
  readonly latestVote: LatestVote | null
  /** Live arrivals per second, oldest first. */
  readonly buckets: readonly Bucket[]
  /** The feed, newest first. */
  readonly feed: readonly FeedRow[]
  /** The arrival number of the newest feed row (a row's key). */
  readonly seq: number
  /** The newest event IDs (long ones hashed), oldest first. */
  readonly eids: readonly string[]
  /**
   * Where a `send_all` replay was counted already: the `m.ts` spans, oldest first and disjoint,
   * within which this tally counted every event it was delivered, with no gap in delivery. The
   * 512 {@link Tally.eids} hold 100 s at 5 events/s; a replay brings the server's whole history.
   * Absent from a tally an older version stored (read as none: nothing is claimed).
   */
  readonly spans: readonly Span[]
  /**
   * The span this load's stream is extending, not yet in {@link Tally.spans}; never stored
   * (`null` when read back): the next load's stream may begin after a gap, so it opens its own.
   */
  readonly run: Run | null
}

/** A tally with nothing counted yet. */
export function emptyTally(now: number): Tally {
  return Object.freeze({
    v: 1,
    since: now,
    total: 0,
    replayed: 0,
    totals: Object.freeze({}),
    uniqueUsers: 0,
    users: Object.freeze([]),
    latestVote: null,
    buckets: Object.freeze([]),
    feed: Object.freeze([]),
    seq: 0,
    eids: Object.freeze([]),
    spans: Object.freeze([]),
    run: null,
  })
}

/** A short, stable digest of a string (53-bit, base 36): users and long IDs are kept by it. */
export function digestOf(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}

// An ID as long as a UUID is kept as it is (readable in devtools); longer ones by digest, so
// that the 512 of them stay small whatever a server sends.
const eidKey = (eid: string): string => (eid.length <= 40 ? eid : `#${digestOf(eid)}`)

const voteEvents: ReadonlySet<number> = new Set([EventName.BotVote, EventName.ServerVote])

/** The newest vote by `m.ts` (as core's `eventStats` decides it), its user shortened. */
function newerVote(current: LatestVote | null, event: ReceivedEvent): LatestVote | null {
  const votes = event.ctx['votes']
  if (!voteEvents.has(event.m.e) || typeof votes !== 'number') return current
  const ts = event.m.ts
  const newer = current === null || (ts === undefined ? current.ts === undefined : (current.ts ?? -Infinity) <= ts)
  if (!newer) return current
  const user = event.ctx['user']
  return Object.freeze({
    votes,
    e: event.m.e,
    ...(typeof user === 'string' || typeof user === 'number' ? { user: String(user).slice(0, 64) } : {}),
    ...(ts === undefined ? {} : { ts }),
  })
}

/**
 * `spans` with `added`: merged where they overlap or touch (a run that resumed from a
 * span's end: core delivers every event stamped at or after its mark), sorted, the newest kept.
 */
function withSpan(spans: readonly Span[], added: Span): readonly Span[] {
  const merged: [number, number, string, string][] = []
  for (const [from, to, first, last] of [...spans, added].sort((x, y) => x[0] - y[0])) {
    const open = merged.at(-1)
    if (open === undefined || from > open[1]) merged.push([from, to, first, last])
    else if (to > open[1]) [open[1], open[3]] = [to, last]
  }
  return Object.freeze(merged.slice(-TallyBounds.spans).map((span) => Object.freeze(span) as Span))
}

const inSpans = (spans: readonly Span[], ts: number, key: string): boolean =>
  spans.some(([from, to, first, last]) => (from < ts && ts < to) || (ts === from && key === first) || (ts === to && key === last))

/**
 * Where the stream has got to once `event` (stamped `ts`) arrived. A run goes on while the
 * stream does; it begins afresh after a load, unless its first event is `resumed` (core filling
 * the gap since the newest event this page delivered, which the tally's newest span ends at). A
 * live event stamped before its run began (another clock) stays out of it: the run claims only
 * what arrived in order. `key` is the event's eid key, `''` without one.
 */
function nextRun(run: Run | null, spans: readonly Span[], event: ReceivedEvent, ts: number, key: string): Run {
  const prior = event.prior === true
  const newest = spans.at(-1)
  const span: Span | undefined =
    run?.span ?? (event.resumed === true && newest !== undefined && newest[1] <= ts ? [newest[1], newest[1], newest[3], newest[3]] : undefined)
  if (span === undefined) return { span: [ts, ts, key, key], prior }
  const [from, to, first, last] = span
  // Only a replay reaches back before its start: it is the server's history, all of it delivered.
  if (prior && ts < from) return { span: [ts, to, key, last], prior }
  return { span: [from, Math.max(to, ts), first, ts >= to ? key : last], prior }
}

/**
 * The second a counted event is drawn at in the rate and the chart, or `undefined` for none.
 * A live event at its arrival; a `resumed` one (missed while the page was away) at its own
 * `m.ts`, so that a gap filled in at once does not read as a burst: at most `now` (a clock
 * ahead of this one), and not at all when it has no `m.ts` or falls before the kept seconds or
 * before the tally began (its time was not watched). A replay is never a live arrival.
 */
function secondOf(event: ReceivedEvent, since: number, second: number): number | undefined {
  if (event.prior === true) return undefined
  if (event.resumed !== true) return second
  const ts = event.m.ts
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return undefined
  const s = Math.min(Math.floor(ts), second)
  return s > second - TallyBounds.seconds && s >= Math.floor(since / 1000) ? s : undefined
}

/**
 * Counts a burst of events that arrived at `now`. An event whose `eid` the tally holds is
 * dropped (a resumed gap replays what a page counted before its reload); so is a repeat within
 * the burst, and a `prior` event stamped within one of the tally's {@link Tally.spans} (a
 * `send_all` replay of history the page watched). Returns the same tally when nothing changed.
 */
export function addEvents(tally: Tally, events: readonly ReceivedEvent[], now: number): Tally {
  const eids = new Set(tally.eids)
  const totals = new Map(Object.entries(tally.totals))
  const users = new Set(tally.users)
  const second = Math.floor(now / 1000)
  // A clock set back (NTP correcting a fast clock) leaves no beginning in the future: the rates
  // are scaled by the time seen since, and the chart starts there.
  const since = sinceAt(tally, now)
  // Counts by second for the seconds this burst touches, each starting from its kept bucket.
  const touched = new Map<number, Map<string, number>>()
  let { total, replayed, uniqueUsers, latestVote, seq, spans, run } = tally
  const rows: FeedRow[] = []
  for (const event of events) {
    const ts = event.m.ts
    const stamped = typeof ts === 'number' && Number.isFinite(ts)
    const key = event.m.eid === undefined ? '' : eidKey(event.m.eid)
    // A replay starts: what the stream covered before it is settled, and is what it is checked against.
    if (event.prior === true && run !== null && !run.prior) {
      spans = withSpan(spans, run.span)
      run = null
    }
    const countedBefore = event.prior === true && stamped && inSpans(spans, ts, key)
    // Even an event counted before shows how far the stream has come.
    if (stamped) run = nextRun(run, spans, event, ts, key)
    if (countedBefore) continue
    if (event.m.eid !== undefined) {
      if (eids.has(key)) continue
      // Added last, so the set stays oldest first and its oldest fall off the bound.
      eids.add(key)
    }
    const named = String(event.m.e)
    const name = totals.has(named) || totals.size < TallyBounds.names ? named : String(OtherName)
    total += 1
    totals.set(name, (totals.get(name) ?? 0) + 1)
    if (event.prior === true) replayed += 1
    const s = secondOf(event, since, second)
    if (s !== undefined) {
      let bucket = touched.get(s)
      if (bucket === undefined) {
        bucket = new Map(Object.entries(tally.buckets.find((b) => b.s === s)?.n ?? {}))
        touched.set(s, bucket)
      }
      bucket.set(name, (bucket.get(name) ?? 0) + 1)
    }
    const user = event.ctx['user']
    if ((typeof user === 'string' || typeof user === 'number') && !NoUser.has(String(user))) {
      const hash = digestOf(String(user))
      if (!users.has(hash)) {
        uniqueUsers += 1
        users.add(hash)
      }
    }
    latestVote = newerVote(latestVote, event)
    seq += 1
    rows.push(toFeedRow(event, seq, now))
  }
  if (rows.length === 0 && spans === tally.spans && sameRun(run, tally.run)) return tally
  const buckets = tally.buckets.filter((b) => b.s > second - TallyBounds.seconds && b.s <= second && !touched.has(b.s))
  for (const [s, n] of touched) buckets.push(Object.freeze({ s, n: Object.freeze(Object.fromEntries(n)) }))
  // Oldest first; a filled-in gap adds seconds before the newest (nearly sorted: cheap).
  buckets.sort((a, b) => a.s - b.s)
  return Object.freeze({
    v: 1,
    since,
    total,
    replayed,
    totals: Object.freeze(Object.fromEntries(totals)),
    uniqueUsers,
    users: Object.freeze([...users].slice(-TallyBounds.users)),
    latestVote,
    buckets: Object.freeze(buckets),
    feed: Object.freeze([...rows.reverse(), ...tally.feed].slice(0, TallyBounds.feed)),
    seq,
    eids: Object.freeze([...eids].slice(-TallyBounds.eids)),
    spans,
    run: run === null ? null : Object.freeze({ span: Object.freeze(run.span), prior: run.prior }),
  })
}

const sameRun = (a: Run | null, b: Run | null): boolean =>
  a === b || (a !== null && b !== null && a.prior === b.prior && a.span.every((x, i) => x === b.span[i]))

const groupOf: ReadonlyMap<string, number> = new Map(
  StatGroups.flatMap((group, i) => group.events.map((e) => [String(e), i] as const)),
)

/** The rate scale at `now`: per minute, over the window or the time seen so far (at least 1 s). */
const scaleAt = (tally: Tally, now: number, windowMs: number): number =>
  60_000 / Math.min(windowMs, Math.max(now - sinceAt(tally, now), 1_000))

/**
 * When the tally began, as seen at `now`: never later (a clock set back leaves a kept start in
 * the future until the next event moves it, and a quiet target may have none for long).
 */
const sinceAt = (tally: Tally, now: number): number => Math.min(tally.since, now)

/**
 * The tiles' numbers at `now`, in core's `EventStats` shape (so `tilesOf` words them): totals
 * since {@link Tally.since}, and live arrivals per minute over the `windowMs` before `now`, at
 * one-second resolution.
 */
export function statsOf(tally: Tally, now: number, windowMs: number): EventStats {
  const from = Math.floor((now - windowMs) / 1000)
  const inWindow = new Map<string, number>()
  for (const bucket of tally.buckets) {
    if (bucket.s <= from || bucket.s > Math.floor(now / 1000)) continue
    for (const [name, count] of Object.entries(bucket.n)) inWindow.set(name, (inWindow.get(name) ?? 0) + count)
  }
  const scale = scaleAt(tally, now, windowMs)
  const perMinute: Record<number, number> = {}
  let perMinuteTotal = 0
  for (const [name, count] of inWindow) {
    perMinute[Number(name)] = count * scale
    perMinuteTotal += count * scale
  }
  return Object.freeze({
    at: now,
    total: tally.total,
    totals: Object.freeze(Object.fromEntries(Object.entries(tally.totals).map(([k, v]) => [Number(k), v]))),
    replayed: tally.replayed,
    perMinute: Object.freeze(perMinute),
    perMinuteTotal,
    uniqueUsers: tally.uniqueUsers,
    latestVote: tally.latestVote,
  })
}

/**
 * The chart at `now`: one point per whole second of the last `spanMs` (none before
 * {@link Tally.since}), each the per-minute rate by group over the `windowMs` before it. Drawn
 * from the buckets alone, so a restored tally draws the same chart as before the reload.
 */
export function chartOf(tally: Tally, now: number, spanMs: number, windowMs: number): ChartData {
  const end = Math.floor(now / 1000)
  const start = Math.max(end - Math.floor(spanMs / 1000) + 1, Math.floor(sinceAt(tally, now) / 1000))
  const windowS = Math.max(1, Math.round(windowMs / 1000))
  const width = StatGroups.length + 1
  // Per second from start - windowS to end: counts by series; then a running sum over windowS.
  const first = start - windowS
  const counts = Array.from({ length: Math.max(0, end - first + 1) }, () => new Array<number>(width).fill(0))
  for (const bucket of tally.buckets) {
    const row = counts[bucket.s - first]
    if (row === undefined) continue
    for (const [name, count] of Object.entries(bucket.n)) {
      const i = groupOf.get(name) ?? width - 1
      row[i] = (row[i] ?? 0) + count
    }
  }
  const x: number[] = []
  const series = Array.from({ length: width }, () => [] as number[])
  const running = new Array<number>(width).fill(0)
  counts.forEach((row, i) => {
    row.forEach((c, j) => (running[j] = (running[j] ?? 0) + c - (counts[i - windowS]?.[j] ?? 0)))
    const s = first + i
    if (s < start) return
    x.push(s)
    const scale = scaleAt(tally, (s + 1) * 1000, windowMs)
    running.forEach((c, j) => series[j]?.push(c * scale))
  })
  return Object.freeze({ x, series })
}

/** The tally as text for storage, within {@link TallyBounds.chars} (the oldest users and rows go first). */
export function serializeTally(tally: Tally): string {
  // The run is stored as a span: the next load's stream begins a run of its own.
  let kept: Tally = tally.run === null ? tally : { ...tally, spans: withSpan(tally.spans, tally.run.span), run: null }
  for (;;) {
    const text = JSON.stringify(kept)
    if (text.length <= TallyBounds.chars) return text
    // Only a tally of unusually long feed rows, or of many event names a second, gets here;
    // halve what is largest, oldest first. The oldest seconds go before the event IDs (which keep
    // a resumed gap from counting twice), and all of it before the counts themselves.
    if (kept.users.length > 0) kept = { ...kept, users: kept.users.slice(Math.ceil(kept.users.length / 2)) }
    else if (kept.feed.length > 0) kept = { ...kept, feed: kept.feed.slice(0, Math.floor(kept.feed.length / 2)) }
    else if (kept.buckets.length > 0) kept = { ...kept, buckets: kept.buckets.slice(Math.ceil(kept.buckets.length / 2)) }
    else if (kept.eids.length > 0) kept = { ...kept, eids: kept.eids.slice(Math.ceil(kept.eids.length / 2)) }
    else return JSON.stringify(emptyTally(tally.since))
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isRecordOf = (v: unknown, item: (x: unknown) => boolean): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every(item)
const isStrings = (v: unknown, max: number): v is string[] =>
  Array.isArray(v) && v.length <= max && v.every((s) => typeof s === 'string' && s.length <= 64)

function isRow(v: unknown): v is FeedRow {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return (
    ['key', 'time', 'name', 'user', 'fields', 'chan'].every((k) => typeof r[k] === 'string') &&
    typeof r['prior'] === 'boolean' &&
    typeof r['resumed'] === 'boolean'
  )
}

const isSpans = (v: unknown): v is Span[] =>
  Array.isArray(v) &&
  v.length <= TallyBounds.spans &&
  v.every(
    (span: unknown) =>
      Array.isArray(span) &&
      span.length === 4 &&
      Number.isFinite(span[0]) &&
      Number.isFinite(span[1]) &&
      span[0] <= span[1] &&
      isStrings(span.slice(2), 2),
  )

function isVote(v: unknown): v is LatestVote | null {
  if (v === null) return true
  if (typeof v !== 'object') return false
  const r = v as Record<string, unknown>
  return (
    typeof r['votes'] === 'number' &&
    typeof r['e'] === 'number' &&
    (r['user'] === undefined || typeof r['user'] === 'string') &&
    (r['ts'] === undefined || typeof r['ts'] === 'number')
  )
}

/** What {@link parseTally} made of stored text: a tally, or why there is none. */
export type ParsedTally = { readonly tally: Tally } | { readonly problem: string }

/**
 * Reads a stored tally back, checking every field and bound: text from another version, a
 * half-written entry or a hand edit gives a `problem` (to start clean and say so), never a throw.
 */
export function parseTally(text: string): ParsedTally {
  if (text.length > TallyBounds.chars) return { problem: `longer than ${TallyBounds.chars} characters` }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { problem: 'not JSON' }
  }
  if (typeof value !== 'object' || value === null) return { problem: 'not an object' }
  const t = value as Record<string, unknown>
  if (t['v'] !== 1) return { problem: 'an unknown format' }
  const checks: readonly [string, boolean][] = [
    ['since', typeof t['since'] === 'number' && Number.isFinite(t['since'])],
    ['counts', isCount(t['total']) && isCount(t['replayed']) && isCount(t['uniqueUsers']) && isCount(t['seq'])],
    ['totals', isRecordOf(t['totals'], isCount) && Object.keys(t['totals']).length <= TallyBounds.names + 1],
    ['users', isStrings(t['users'], TallyBounds.users)],
    ['eids', isStrings(t['eids'], TallyBounds.eids)],
    ['latestVote', isVote(t['latestVote'])],
    [
      'buckets',
      Array.isArray(t['buckets']) &&
        t['buckets'].length <= TallyBounds.seconds &&
        t['buckets'].every((b: unknown) => {
          const r = b as Record<string, unknown> | null
          return typeof r === 'object' && r !== null && Number.isInteger(r['s']) && isRecordOf(r['n'], isCount)
        }),
    ],
    ['feed', Array.isArray(t['feed']) && t['feed'].length <= TallyBounds.feed && t['feed'].every(isRow)],
    // Optional: an older version stored none.
    ['spans', t['spans'] === undefined || isSpans(t['spans'])],
  ]
  const bad = checks.find(([, ok]) => !ok)
  if (bad !== undefined) return { problem: `a bad ${bad[0]} field` }
  const tally = value as unknown as Tally
  return {
    tally: Object.freeze({
      v: 1,
      since: tally.since,
      total: tally.total,
      replayed: tally.replayed,
      totals: Object.freeze({ ...tally.totals }),
      uniqueUsers: tally.uniqueUsers,
      users: Object.freeze([...tally.users]),
      latestVote: tally.latestVote === null ? null : Object.freeze({ ...tally.latestVote }),
      buckets: Object.freeze(tally.buckets.map((b) => Object.freeze({ s: b.s, n: Object.freeze({ ...b.n }) }))),
      feed: Object.freeze(tally.feed.map((row) => Object.freeze({ ...row }))),
      seq: tally.seq,
      eids: Object.freeze([...tally.eids]),
      // Merged again, so a hand-edited entry cannot claim overlapping or unsorted spans.
      spans: (tally.spans ?? []).reduce<readonly Span[]>(withSpan, Object.freeze([])),
      run: null,
    }),
  }
}
