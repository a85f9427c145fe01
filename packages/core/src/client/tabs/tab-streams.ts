import { BehaviorSubject, Subject, type Subscription } from 'rxjs'
import type { ControlPayload, ReceivedEvent } from '../../codec/index.js'
import type { Diagnostic } from '../../operators/diagnostic.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import type { ConnectionStatus } from '../connection/status.js'
import type { FatesClient } from '../fates-client.js'
import { refCounted } from '../ref-counted.js'
import { advance, type Watermark } from '../connection/watermark.js'
import type { KnownControlCode } from '../../protocol/control.js'
import type { TabItem } from './tabs-machine.js'
import type { TabSessionStore } from './tab-support.js'

// The streams of a tab of a shared connection, elected (tabs.ts) or through the SharedWorker
// (port.ts), and the items that carry a client's emissions between tabs (the channel, a
// worker's port) and back: one definition for the places that make a tab's client, forward a
// client (the elected leader; the SharedWorker's hub, hub.ts) or receive one. Only the sharing
// chunks load it: connect()'s own client (connect.ts) makes its streams in place, because a
// factory shared with the main chunk measured +96 B gzip up front (a chunk more to download).

/** The Subjects behind a {@link FatesClient}'s streams: what an interpreter emits into. */
export interface ClientSubjects {
  readonly frame$: Subject<string>
  readonly control$: Subject<ControlPayload>
  readonly event$: Subject<ReceivedEvent>
  readonly diagnostic$: Subject<Diagnostic>
  readonly status$: BehaviorSubject<ConnectionStatus>
  readonly metrics$: BehaviorSubject<ConnectionMetrics>
}

/** {@link tabStreams}' answer: the Subjects, and how to make the tab's client of them. */
export interface TabStreams extends ClientSubjects {
  /**
   * The client over the Subjects: every stream counts as a subscriber of one connection (the
   * first subscription runs `first`, the end of the last runs `last`; see `refCounted`), and
   * `close` and `reconnect` as given.
   */
  client(first: () => void, last: () => void, close: () => void, reconnect: () => void): FatesClient
}

/** A tab's six streams, starting at `status` and `metrics`, and the client made of them. */
export function tabStreams(status: ConnectionStatus, metrics: ConnectionMetrics): TabStreams {
  const subjects: ClientSubjects = {
    frame$: new Subject(),
    control$: new Subject(),
    event$: new Subject(),
    diagnostic$: new Subject(),
    status$: new BehaviorSubject(status),
    metrics$: new BehaviorSubject(metrics),
  }
  return {
    ...subjects,
    client(first, last, close, reconnect) {
      const lazy = refCounted(first, last)
      return {
        frame$: lazy(subjects.frame$),
        control$: lazy(subjects.control$),
        event$: lazy(subjects.event$),
        diagnostic$: lazy(subjects.diagnostic$),
        status$: lazy(subjects.status$),
        metrics$: lazy(subjects.metrics$),
        close,
        reconnect,
      }
    },
  }
}

/**
 * Subscribes to every stream of `client` and passes each emission to `feed` as a
 * {@link TabItem}, in order, but for its first status: the replayed `closed` from before it
 * opened, which no tab should show. Returns the subscriptions, for the caller to end.
 */
export function feedItems(client: FatesClient, feed: (item: TabItem) => void): Subscription[] {
  let replayed = true
  return [
    client.status$.subscribe((status) => {
      if (replayed) return void (replayed = false)
      feed(['status', status])
    }),
    client.control$.subscribe((payload) => feed(['control', payload])),
    client.event$.subscribe((event) => feed(['event', event])),
    client.diagnostic$.subscribe((diagnostic) => feed(['diagnostic', diagnostic])),
    client.frame$.subscribe((text) => feed(['frame', text])),
    client.metrics$.subscribe((metrics) => feed(['metrics', metrics])),
  ]
}

/** Emits `item` on its stream of `subjects`; an event goes to `event` instead (each receiver deduplicates its own way). */
export function emitItem(subjects: ClientSubjects, item: TabItem, event: (event: ReceivedEvent) => void): void {
  switch (item[0]) {
    case 'status':
      return subjects.status$.next(item[1])
    case 'control':
      return subjects.control$.next(item[1])
    case 'event':
      return event(item[1])
    case 'diagnostic':
      return subjects.diagnostic$.next(item[1])
    case 'frame':
      return subjects.frame$.next(item[1])
    case 'metrics':
      return subjects.metrics$.next(item[1])
  }
}

/** Where a tab keeps its mark: `given`, else the page's `sessionStorage`, if storage is not blocked. */
function tabSession(given: TabSessionStore | undefined): TabSessionStore | undefined {
  try {
    return given ?? (globalThis as { sessionStorage?: TabSessionStore }).sessionStorage
  } catch {
    // Storage blocked for this page (its getter throws): the tab merely forgets across reloads.
    return undefined
  }
}

/**
 * A tab's mark kept in its session (`given`, else `sessionStorage`) under its target's name, for the page that comes
 * back after a reload: `read` it once, and `save` whenever it moved (written once per task,
 * from `now()`'s mark and name then: either unset, nothing is kept). Storage that refuses
 * costs the mark only.
 */
export function markKeeper(given: TabSessionStore | undefined, now: () => { readonly mark: Watermark | undefined; readonly name: string | undefined }) {
  const store = tabSession(given)
  let saving = false
  return {
    read(name: string): Watermark | undefined {
      try {
        // Stryker disable next-line OptionalChaining: equivalent: no session throws, and the catch answers alike.
        return parseMark(store?.getItem(`${name}:mark`))
      } catch {
        // Storage blocked: no mark.
        return undefined
      }
    },
    save(): void {
      if (saving) return
      saving = true
      queueMicrotask(() => {
        saving = false
        const { mark, name } = now()
        if (mark === undefined || name === undefined) return
        try {
          // Stryker disable next-line OptionalChaining: equivalent: no session throws here, and the catch answers alike.
          store?.setItem(`${name}:mark`, markText(mark))
        } catch {
          // Quota or storage blocked: the next load asks for less.
        }
      })
    },
  }
}

/** A tab's mark as it keeps it in its session (a reload's resume mark): `-Infinity` is `null` in JSON. */
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** An event as a tab or the hub posts it: an object with its `m`, which a follower's dedupe reads, its `ts` a finite number and `eid` text if any (else they become a mark's). */
export const isPostedEvent = (value: unknown): boolean =>
  isObject(value) && isObject(value['m']) && Number.isFinite(value['m']['ts'] ?? 0) && typeof (value['m']['eid'] ?? '') === 'string'

/**
 * An item as a leader or the hub posts it: `[kind, value]`, the value a frame's text or an
 * object (an event's with its `m`). One of another version, or a broken one, must not reach a
 * tab's streams: its dedupe and its machine read what they hold, and would throw in the page.
 */
export const isItem = (item: unknown): boolean =>
  Array.isArray(item) && (item[0] === 'frame' ? typeof item[1] === 'string' : item[0] === 'event' ? isPostedEvent(item[1]) : isObject(item[1]))

const markText = (mark: Watermark): string => JSON.stringify({ ts: Number.isFinite(mark.ts) ? mark.ts : null, eid: mark.eid, tied: mark.tied })
/**
 * The mark in a session's text, or in a persisted record's `mark` (the same shape; a record
 * without one has no string `eid` of its own, so it yields none). Read in the tab's own clock
 * (`clock: 0`), as the marks it makes are: a mark with no clock has no ceiling, and one event
 * stamped a day ahead would then hide every later one from a reload or a new worker.
 */
export function parseMark(text: string | null | undefined): Watermark | undefined {
  try {
    const parsed = JSON.parse(text ?? 'null') as { mark?: unknown } | null
    const data = (parsed?.mark ?? parsed) as { ts?: unknown; eid?: unknown; tied?: unknown } | null
    // Stryker disable next-line OptionalChaining: equivalent: reading `eid` of null throws, and the catch answers alike.
    // Finite: JSON's 1e999 parses as Infinity, a mark no ready (its clock is known) ever brings back.
    if (typeof data?.eid !== 'string' || (data.ts !== null && !Number.isFinite(data.ts))) return undefined
    const tied = Array.isArray(data.tied) && data.tied.every((eid) => typeof eid === 'string') ? (data.tied as string[]) : undefined
    return { ts: data.ts === null ? -Infinity : (data.ts as number), eid: data.eid, tied, clock: 0 }
  } catch {
    // Not JSON: no mark.
  }
  return undefined
}

// The mark of what a tab receives: watermark.ts's rule for a tab, which sees the events of a
// connection another tab or the SharedWorker holds, and its done_prior after them, but not
// its machine's replay mark. Here, not in watermark.ts, so that only the sharing chunks carry
// it (watermark.ts is in every app).

/**
 * Whether `item` ends a replay: its `done_prior`, which a connection passes on after every
 * event of the replay. There a receiver's replay mark (see {@link received}) becomes its mark.
 */
export const endsReplay = (item: TabItem): boolean => item[0] === 'control' && item[1].code === ('done_prior' satisfies KnownControlCode)

/**
 * For a receiver that sees a connection's events but not when its replay ends (a tab following
 * another tab's connection, a tab of a SharedWorker): its `mark` and `replay` after delivering
 * `event` at `atMs`, or `undefined` when neither moved. A resumed event is one of a replay,
 * which comes in any order: it moves only `replay`, the mark that replay gives once whole: at
 * its `done_prior` ({@link endsReplay}; the receiver makes it its mark there), or at the next
 * event neither resumed nor history (a live one, which comes after it), which this makes the
 * mark and moves it. A replay that did not end (a drop, or the tab holding the connection gone)
 * leaves the mark where its gap began, as the connection's own machine does: a takeover
 * resumes from there, and the eid dedupe drops what the cut replay delivered. History moves
 * nothing.
 *
 * @example
 * const after = received(mark, undefined, { ...later, resumed: true }, Date.now())
 * after?.mark === mark // true: a replay's event moves only `replay`
 */
export function received(
  mark: Watermark | undefined,
  replay: Watermark | undefined,
  event: ReceivedEvent,
  atMs: number,
): { readonly mark: Watermark | undefined; readonly replay: Watermark | undefined } | undefined {
  if (event.prior === true) return undefined
  const from = replay ?? mark
  const moved = advance(from, event, atMs)
  if (event.resumed === true) return moved === from ? undefined : { mark, replay: moved }
  return moved === mark && replay === undefined ? undefined : { mark: moved, replay: undefined }
}
