import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { concat, defer, Observable, of, Subject, type Subscription } from 'rxjs'
import type { ClientHandle, OpenClient } from './view/target-panel.js'

// The Vite dev loop: a hot update re-runs main.ts, which builds its panels anew. Without this,
// each update would close every client and open it again: a socket and an identify per target
// per saved file, ten of which lock the bot out for 7 minutes. Instead, main.ts parks the open
// clients when it is disposed (`parkAll`), and the new main.ts takes them back when it opens the
// same settings. What arrives in between is buffered, within bounds, and delivered first.
//
// The parked clients live in `import.meta.hot.data`, which Vite keeps for this module across
// updates, even an update of this very file. In a production build `import.meta.hot` is
// undefined: the map is a plain module variable that nothing ever parks into.

/** The bounds of a parked client. */
export const HandoverBounds = Object.freeze({
  /**
   * Events buffered for the next module. Beyond, the client is closed: the new module opens
   * one, whose resumed connection fills the gap instead (one identify, nothing lost).
   */
  events: 10_000,
  /** How long a parked client waits to be taken back (an update that failed to load): then it closes. */
  waitMs: 10_000,
})

interface Entry {
  /** The settings, as the key to take a parked client back by; in memory only. */
  readonly key: string
  readonly client: ClientHandle
  /** The client's events, for whichever panel holds it now. */
  readonly events: Subject<ReceivedEvent>
  /**
   * Subscribed from the open to the final close: the client counts it as a subscriber, so a
   * panel that leaves never leaves the client without one (its streams subscribe a tick late,
   * and a moment without subscribers would close the socket).
   */
  readonly hold: Subscription
  /**
   * Behind a relay: its last word that its upstream is down (`upstream_connecting` or
   * `upstream_retrying`), until `upstream_live` or a new connection attempt. A control payload
   * is not replayed to a late subscriber, so the panel that takes the client back is told it
   * again: without it, its status would read "Live" while the relay's upstream is down.
   */
  upstreamDown: ControlPayload | undefined
  /** Which handle may close the client: a handle from before a park may not. */
  generation: number
  /** While parked: what arrived since, and when to give up waiting. */
  parked: { readonly buffer: ReceivedEvent[]; readonly timer: ReturnType<typeof setTimeout> } | undefined
}

interface HotData {
  entries?: Set<Entry>
}

const hotData = import.meta.hot?.data as HotData | undefined
const entries: Set<Entry> = hotData?.entries ?? new Set()
if (hotData !== undefined) hotData.entries = entries

function closeForGood(entry: Entry): void {
  if (entry.parked !== undefined) clearTimeout(entry.parked.timer)
  entry.parked = undefined
  entries.delete(entry)
  entry.hold.unsubscribe()
  entry.client.close()
}

/**
 * A handle on the entry's client for one panel. Its `event$` gives what the park buffered
 * first, then live events, within the subscribe call: no event falls between them.
 */
function handleOf(entry: Entry): ClientHandle {
  const generation = (entry.generation += 1)
  const event$ = new Observable<ReceivedEvent>((subscriber) => {
    const parked = entry.parked
    if (parked !== undefined) {
      clearTimeout(parked.timer)
      entry.parked = undefined
      for (const event of parked.buffer) subscriber.next(event)
    }
    return entry.events.subscribe(subscriber)
  })
  return {
    event$,
    control$: defer(() => (entry.upstreamDown === undefined ? entry.client.control$ : concat(of(entry.upstreamDown), entry.client.control$))),
    diagnostic$: entry.client.diagnostic$,
    status$: entry.client.status$,
    ...(entry.client.metrics$ === undefined ? {} : { metrics$: entry.client.metrics$ }),
    close: () => {
      if (entry.generation === generation && entry.parked === undefined) closeForGood(entry)
    },
  }
}

function opened(key: string, client: ClientHandle): Entry {
  const events = new Subject<ReceivedEvent>()
  const entry: Entry = {
    key,
    client,
    events,
    upstreamDown: undefined,
    generation: 0,
    parked: undefined,
    hold: client.event$.subscribe({
      next: (event) => {
        const parked = entry.parked
        if (parked === undefined) return events.next(event)
        parked.buffer.push(event)
        if (parked.buffer.length > HandoverBounds.events) closeForGood(entry)
      },
      error: (error: unknown) => events.error(error),
      complete: () => events.complete(),
    }),
  }
  entry.hold.add(
    client.control$.subscribe((payload) => {
      if (payload.code === RelayControlCode.UpstreamConnecting || payload.code === RelayControlCode.UpstreamRetrying) entry.upstreamDown = payload
      else if (payload.code === RelayControlCode.UpstreamLive) entry.upstreamDown = undefined
    }),
  )
  // A new attempt: the relay says it again after `ready` if its upstream is still down.
  entry.hold.add(
    client.status$.subscribe((status) => {
      if (status.state === 'connecting') entry.upstreamDown = undefined
    }),
  )
  return entry
}

/**
 * Wraps a client opener so that a hot update hands the open clients over instead of closing
 * and reopening them: the same settings take back the parked client.
 */
export function handedOver(open: OpenClient): OpenClient {
  return (settings) => {
    const key = JSON.stringify(settings)
    for (const entry of entries) {
      if (entry.key === key && entry.parked !== undefined) return handleOf(entry)
    }
    const entry = opened(key, open(settings))
    entries.add(entry)
    return handleOf(entry)
  }
}

/**
 * Parks every open client for the next version of the module that calls it (main.ts, from
 * `import.meta.hot.dispose`): the panels' `close()` that follows leaves them open, and their
 * events are buffered for the panels that take them back.
 */
export function parkAll(): void {
  for (const entry of entries) {
    if (entry.parked !== undefined) continue
    entry.parked = { buffer: [], timer: setTimeout(() => closeForGood(entry), HandoverBounds.waitMs) }
  }
}
