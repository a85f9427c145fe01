import { defer, filter, type MonoTypeOperatorFunction } from 'rxjs'
import type { ReceivedEvent } from '../codec/index.js'

/** Options of {@link dedupeEvents}. */
export interface DedupeEventsConfig {
  /**
   * How many event IDs to remember; when full, the oldest is forgotten first.
   * @default 10000
   */
  readonly capacity?: number
}

/** The default of {@link DedupeEventsConfig.capacity}. */
export const DefaultDedupeCapacity = 10_000

/**
 * Drops an event whose `m.eid` was already seen (a replay after a reconnect resends stored
 * events with the same eid). Memory is bounded: at most `capacity` IDs, oldest forgotten first.
 * Events without an eid pass through. Each subscription has its own memory.
 *
 * @example
 * event$.pipe(dedupeEvents({ capacity: 50_000 }))
 */
export function dedupeEvents<T extends ReceivedEvent>(config: DedupeEventsConfig = {}): MonoTypeOperatorFunction<T> {
  const capacity = config.capacity ?? DefaultDedupeCapacity
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`dedupeEvents: capacity must be a positive integer (got ${String(capacity)})`)
  }
  return (source) =>
    defer(() => {
      // A Set iterates in insertion order, so its first key is the oldest: a FIFO in O(1).
      const seen = new Set<string>()
      return source.pipe(
        filter((event) => {
          const eid = event.m.eid
          if (eid === undefined) return true
          if (seen.has(eid)) return false
          seen.add(eid)
          if (seen.size > capacity) seen.delete(seen.values().next().value as string)
          return true
        }),
      )
    })
}
