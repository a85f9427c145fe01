import { eventLabel, type ReceivedEvent } from '@fates-rx/core'
import { asyncScheduler, bufferTime, filter, map, type Observable, type SchedulerLike } from 'rxjs'

/** At most this many event kinds are named in one announcement; the rest are only counted. */
const maxKinds = 3

/**
 * What a screen reader hears about the live feed: at most one sentence per `intervalMs`, and
 * nothing while nothing arrives. The feed itself changes up to ten times a second, faster than
 * speech; announcing every row would bury everything else a reader says, so the announcement
 * is a summary: how many events, and of which kinds, most frequent first.
 */
export function feedAnnouncements(
  event$: Observable<ReceivedEvent>,
  intervalMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<string> {
  return event$.pipe(
    bufferTime(intervalMs, scheduler),
    filter((events) => events.length > 0),
    map(summarize),
  )
}

/** "3 new events: bot view 2, bot vote 1". Exported for its table test. */
export function summarize(events: readonly ReceivedEvent[]): string {
  const counts = new Map<string, number>()
  for (const event of events) {
    const label = eventLabel(event.m.e)
    counts.set(label, (counts.get(label) ?? 0) + 1)
  }
  // Most frequent first; equal counts in order of first arrival (Map keeps insertion order).
  const kinds = [...counts].sort((a, b) => b[1] - a[1])
  const named = kinds.slice(0, maxKinds).map(([label, n]) => `${label} ${n}`)
  const others = kinds.length - named.length
  const rest = others > 0 ? `, ${others} other ${others === 1 ? 'kind' : 'kinds'}` : ''
  return `${events.length} new ${events.length === 1 ? 'event' : 'events'}: ${named.join(', ')}${rest}`
}
