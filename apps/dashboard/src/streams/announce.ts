import { asyncScheduler, bufferTime, filter, map, pairwise, type Observable, type SchedulerLike } from 'rxjs'
import type { Tally } from './kept.js'

/** At most this many event kinds are named in one announcement; the rest are only counted. */
const maxKinds = 3

/**
 * What a screen reader hears about the live feed: at most one sentence per `intervalMs`, and
 * nothing while nothing arrives. The feed itself changes up to ten times a second, faster than
 * speech; announcing every row would bury everything else a reader says, so the announcement
 * is a summary: how many events, and of which kinds, most frequent first. It counts what the
 * tally counted as new (`tally$`, its first value the numbers kept before): a resumed gap or a
 * `send_all` replay of events counted before a reload adds no row, and is not announced.
 */
export function feedAnnouncements(tally$: Observable<Tally>, intervalMs: number, scheduler: SchedulerLike = asyncScheduler): Observable<string> {
  return tally$.pipe(
    pairwise(),
    map(([before, after]) => newRows(before, after)),
    bufferTime(intervalMs, scheduler),
    map((batches) => ({ count: batches.reduce((sum, batch) => sum + batch.count, 0), names: batches.flatMap((batch) => batch.names) })),
    filter(({ count }) => count > 0),
    map(({ count, names }) => summarize(names, count)),
  )
}

/**
 * What `after` added to `before`: how many rows (arrival numbers), and the names of those the
 * bounded feed still holds, oldest first (the feed is newest first).
 */
function newRows(before: Tally, after: Tally): { readonly count: number; readonly names: string[] } {
  const names: string[] = []
  for (const row of after.feed) {
    if (Number(row.key) <= before.seq) break
    names.push(row.name)
  }
  return { count: after.seq - before.seq, names: names.reverse() }
}

/**
 * "3 new events: bot view 2, bot vote 1", from the event names in order of arrival; `count`
 * when more arrived than are named. Exported for its table test.
 */
export function summarize(names: readonly string[], count = names.length): string {
  const counts = new Map<string, number>()
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
  // Most frequent first; equal counts in order of first arrival (Map keeps insertion order).
  const kinds = [...counts].sort((a, b) => b[1] - a[1])
  const named = kinds.slice(0, maxKinds).map(([label, n]) => `${label} ${n}`)
  const others = kinds.length - named.length
  const rest = others > 0 ? `, ${others} other ${others === 1 ? 'kind' : 'kinds'}` : ''
  return `${count} new ${count === 1 ? 'event' : 'events'}: ${named.join(', ')}${rest}`
}
