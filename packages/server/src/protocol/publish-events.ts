import { either } from 'fp-ts'
import { normalizePublish, PublishError } from '../publish.js'
import { StoreOutcomeUnknown, type EventToStore, type Store } from '../stores/store.js'
import type { ProtocolObserver } from './config.js'

/** One event to publish: where, and what. */
export interface PublishRequest {
  /** `bot-<id>`, `server-<id>` or `global`. */
  readonly channel: unknown
  /** The event, `{ m, ctx }`. */
  readonly event: unknown
}

/** How published events are checked (`FatesServer.publishMany`). */
export interface PublishOptions {
  /**
   * Refuse an event whose `ctx` does not fit the context codec of its `m.e`. A relay turns it
   * off for what its upstream sent: a direct client of the upstream receives such an event
   * (core passes it on `event$`), so a viewer of the relay must too. @default true
   */
  readonly checkContext?: boolean
  /**
   * Refuse an `m.ts` that is no time (not finite, negative, or further ahead of the server's
   * clock than core's `Timestamps.maxAheadSeconds`). A relay turns it off for what its upstream
   * sent, as `checkContext`: core's clients bound their resume mark themselves. @default true
   */
  readonly checkTimestamp?: boolean
  /**
   * `false`: store the events in the history only, for later `send_all` replays, without
   * delivering them live (a relay keeping its origin's replay). @default true
   */
  readonly live?: boolean
}

/** What became of one published event. */
export interface PublishOutcome {
  /** Its event ID (given, or generated). */
  readonly eid: string
  /** True when the history already held this eid: nothing was stored or delivered. */
  readonly repeat: boolean
}

/** Stores events in order, all or none (or {@link StoreOutcomeUnknown}): `Store.publishMany`'s contract. */
export type StoreMany = (events: readonly EventToStore[]) => Promise<boolean[]>

/**
 * Group commit: `storeMany`, with the calls made in one turn (up to its microtasks) or while
 * a call is in flight held and then sent as one call, in the order they were made. With Redis,
 * concurrent publishes (each producer's request, each `publish()`) then share a script call
 * and its round trip instead of each paying for its own. Delivery order stays call order.
 *
 * Each caller gets its own events' flags. A group's failure is every member's: a plain error
 * still means none of the group was stored, and a {@link StoreOutcomeUnknown} that any may
 * have been (each caller names its own eids, see {@link publishEvents}).
 */
export function groupCommit(storeMany: StoreMany): StoreMany {
  interface Waiting {
    readonly events: readonly EventToStore[]
    readonly resolve: (flags: boolean[]) => void
    readonly reject: (error: unknown) => void
  }
  let inFlight = false
  let waiting: Waiting[] = []
  const sendWaiting = (): void => {
    const group = waiting
    waiting = []
    send(group)
  }
  const send = (group: readonly Waiting[]): void => {
    inFlight = true
    const events = group.length === 1 ? (group[0] as Waiting).events : group.flatMap((member) => member.events)
    let stored: Promise<boolean[]>
    try {
      stored = storeMany(events)
    } catch (error) {
      stored = Promise.reject(error)
    }
    stored
      .then(
        (flags) => {
          let at = 0
          for (const member of group) member.resolve(flags.slice(at, (at += member.events.length)))
        },
        (error: unknown) => {
          for (const member of group) member.reject(error)
        },
      )
      .finally(() => {
        inFlight = false
        if (waiting.length > 0) sendWaiting()
      })
  }
  return (events) =>
    new Promise<boolean[]>((resolve, reject) => {
      // The first call of an idle turn waits for the turn's other calls (a producer's loop, a
      // relay's burst), so that they share its store call and round trip too.
      if (!inFlight && waiting.length === 0) {
        inFlight = true
        queueMicrotask(sendWaiting)
      }
      waiting.push({ events, resolve, reject })
    })
}

/**
 * Checks every request first (one bad event refuses the batch), then stores them all in order;
 * delivery is the store's, through its subscriptions. An error that may come after some events
 * were stored is a {@link StoreOutcomeUnknown} naming every eid, so that a caller can retry
 * with the same eids safely. `storeMany` replaces `store.publishMany` (the server passes it
 * through {@link groupCommit}); without either, events are stored one by one.
 */
export async function publishEvents(
  store: Store,
  observer: ProtocolObserver,
  now: () => number,
  requests: readonly PublishRequest[],
  options: PublishOptions = {},
  storeMany: StoreMany | undefined = store.publishMany?.bind(store),
): Promise<PublishOutcome[]> {
  const events: EventToStore[] = []
  const checkContext = options.checkContext ?? true
  const live = options.live ?? true
  for (const [index, { channel, event }] of requests.entries()) {
    const normalized = normalizePublish(channel, event, now, undefined, checkContext, options.checkTimestamp ?? true)
    if (either.isLeft(normalized)) throw new PublishError(normalized.left, index)
    events.push({ channel: channel as string, eid: normalized.right.eid, event: normalized.right.event, ...(live ? {} : { live }) })
  }
  let stored: readonly boolean[]
  const started = performance.now()
  try {
    if (storeMany !== undefined) {
      stored = await storeMany(events)
    } else {
      const flags: boolean[] = []
      for (const { channel, eid, event } of events) {
        try {
          flags.push(await (live ? store.publish(channel, eid, event) : store.publish(channel, eid, event, false)))
        } catch (error) {
          // One by one is not all or none: once some are stored, a plain error would lie.
          if (flags.length === 0) throw error
          throw new StoreOutcomeUnknown(`the store failed after ${flags.length} of ${events.length} events`)
        }
      }
      stored = flags
    }
  } catch (error) {
    observer.storeFailed?.()
    if (error instanceof StoreOutcomeUnknown) throw new StoreOutcomeUnknown(error.message, events.map((e) => e.eid))
    throw error
  }
  const repeats = stored.filter((flag) => !flag).length
  observer.published?.(events.length - repeats, repeats, (performance.now() - started) / 1000)
  return events.map(({ eid }, index) => ({ eid, repeat: stored[index] !== true }))
}
