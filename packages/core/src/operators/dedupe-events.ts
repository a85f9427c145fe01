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

function checkCapacity(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`dedupeEvents: capacity must be a positive integer (got ${String(capacity)})`)
  }
}

/**
 * The event IDs seen lately: at most `capacity`, the oldest forgotten first. The memory under
 * {@link dedupeEvents}, for a caller that filters without an observable (`connect()` does).
 *
 * @example
 * const memory = new EventIdMemory(10_000)
 * memory.firstSight('a') // true
 * memory.firstSight('a') // false
 */
export class EventIdMemory {
  // A ring of the remembered eids says which is oldest. (Deleting a Set's first key via
  // values().next() looks O(1) but walks the deleted slots V8 keeps until it rehashes;
  // measured, it made deduplication a fifth of the client's time once full.)
  private readonly seen = new Set<string>()
  private readonly ring: string[] = []
  private oldest = 0

  /** @param capacity how many IDs to remember, a positive integer */
  constructor(readonly capacity: number = DefaultDedupeCapacity) {
    checkCapacity(capacity)
  }

  /** True the first time an ID is seen (and remembers it); false while it is remembered. */
  firstSight(eid: string): boolean {
    const seen = this.seen
    if (seen.has(eid)) return false
    seen.add(eid)
    const ring = this.ring
    if (ring.length < this.capacity) ring.push(eid)
    else {
      seen.delete(ring[this.oldest] as string)
      ring[this.oldest] = eid
      this.oldest = (this.oldest + 1) % this.capacity
    }
    return true
  }
}

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
  checkCapacity(capacity)
  return (source) =>
    defer(() => {
      const memory = new EventIdMemory(capacity)
      return source.pipe(
        filter((event) => {
          const eid = event.m.eid
          return eid === undefined || memory.firstSight(eid)
        }),
      )
    })
}
