import { BehaviorSubject, Observable, type SchedulerLike, Subject, type Subscription } from 'rxjs'
import type { ControlPayload, ReceivedEvent } from '../codec/index.js'
import { dedupeEvents, type Diagnostic } from '../operators/index.js'
import type { FatesClient } from './connect.js'
import { markOf, newerThan, type Watermark } from './machine.js'
import type { ConnectionMetrics } from './metrics.js'
import type { PerAttempt, ResolvedOptions } from './options.js'
import type { ConnectionStatus, TabRole } from './status.js'
import { type TabChannel, type TabsEnvironment, tabsEnvironment } from './tab-support.js'

// Tabs of one origin share one connection: one tab leads (holds the Web Lock named after the
// connection, and the socket), the others follow (wait for the lock, and receive what the
// leader delivers over a BroadcastChannel of the same name). The browser releases a lock when
// its tab closes or crashes, and grants it to the next tab waiting: that is the takeover, with
// no heartbeat to tune. The new leader connects with the newest event its tab delivered, so
// its first connection fills the gap as a reconnect does (`resume`).
//
// What crosses the channel is what the leader's streams emitted: redacted already (frames,
// details, diagnostics), so the token never does. The channel's name is a SHA-256 digest of
// the connection's identity, token included: tabs with another token never meet.

/** How often a leader counts the tabs that share its connection (a crashed tab says no goodbye). */
export const TabsRecountMs = 5_000

/** The version of the messages between tabs: part of the channel's name, so versions never mix. */
const Version = 1

type Item =
  | readonly ['status', ConnectionStatus]
  | readonly ['control', ControlPayload]
  | readonly ['event', ReceivedEvent]
  | readonly ['diagnostic', Diagnostic]
  | readonly ['frame', string]
  | readonly ['metrics', ConnectionMetrics]

/** The messages between tabs; `tab` and `to` are random tab ids. */
type Message =
  | { readonly type: 'out'; readonly items: readonly Item[] }
  | { readonly type: 'lead' }
  | { readonly type: 'welcome'; readonly to: string; readonly status: ConnectionStatus; readonly mark?: Watermark; readonly history?: readonly ReceivedEvent[] }
  | { readonly type: 'hello'; readonly tab: string }
  | { readonly type: 'bye'; readonly tab: string }
  | { readonly type: 'reconnect' }

const isMessage = (data: unknown): data is Message =>
  typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string'

async function sha256(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
}

const read = <T>(value: PerAttempt<T>): T => (typeof value === 'function' ? (value as () => T)() : value)

const noMetrics: ConnectionMetrics = { frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }

/** One joining of the share: from the first subscription (or `reconnect()`) to the last leaving. */
interface Session {
  readonly abort: AbortController
  readonly subscriptions: Subscription[]
  name?: string
  channel?: TabChannel
  release?: () => void
  inner?: FatesClient
  recount?: Subscription
}

/**
 * The client of {@link connect} with `shareAcrossTabs`: shared where the environment allows it,
 * else this tab's own, saying in every status's detail why it is not shared.
 */
export function shareAcrossTabs(
  option: true | TabsEnvironment,
  config: ResolvedOptions,
  open: (from: Watermark | undefined) => FatesClient,
  scheduler: SchedulerLike,
  random: () => number,
): FatesClient {
  const environment = tabsEnvironment(option)
  if (typeof environment !== 'string') return sharedClient(config, environment, open, scheduler, random)
  const client = open(undefined)
  const note = `Not shared across tabs: ${environment}.`
  const status$ = new Observable<ConnectionStatus>((subscriber) =>
    client.status$.subscribe({
      next: (status) => subscriber.next({ ...status, detail: status.detail === undefined ? note : `${status.detail} (${note})` }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  )
  return { ...client, status$ }
}

/**
 * The client of {@link connect} with `shareAcrossTabs`: the same streams, fed by this tab's own
 * connection while it leads, and by the leader's over the channel while it follows. `open(from)`
 * makes this tab's own (unshared) client, resuming after `from`.
 */
export function sharedClient(
  config: ResolvedOptions,
  environment: TabsEnvironment,
  open: (from: Watermark | undefined) => FatesClient,
  scheduler: SchedulerLike,
  random: () => number,
): FatesClient {
  const now = (): number => scheduler.now()
  const me = random().toString(36).slice(2) + now().toString(36)
  const digest = environment.digest ?? sha256

  const frame$ = new Subject<string>()
  const control$ = new Subject<ControlPayload>()
  const event$ = new Subject<ReceivedEvent>()
  const diagnostic$ = new Subject<Diagnostic>()
  const status$ = new BehaviorSubject<ConnectionStatus>({ state: 'closed', since: now(), detail: 'Not opened yet: the connection opens on the first subscription.' })
  const metrics$ = new BehaviorSubject<ConnectionMetrics>(noMetrics)

  let session: Session | undefined
  let role: TabRole | undefined
  let count = 1
  let current: ConnectionStatus = status$.value
  // Tabs that said hello and not goodbye since the last count (a tab's lock request may reach
  // the lock manager after its hello reaches this tab).
  const greeted = new Set<string>()
  // The newest event this tab delivered (as the machine keeps it), for a takeover to resume from.
  let mark: Watermark | undefined
  // With sendAll, what this tab delivered: a tab joining later gets it as its history.
  let retained: ReceivedEvent[] = []

  // Each tab deduplicates on its own: a takeover's replay may repeat what the leader sent.
  const offered = new Subject<ReceivedEvent>()
  offered.pipe(dedupeEvents({ capacity: config.dedupeCapacity })).subscribe((event) => {
    if (config.resume && event.prior !== true && (mark === undefined || newerThan(event, mark))) mark = markOf(event)
    if (config.sendAll) {
      retained.push(event)
      if (retained.length > 2 * config.dedupeCapacity) retained = retained.slice(-config.dedupeCapacity)
    }
    event$.next(event)
  })

  // The status without this tab's view of the tabs: what a change of role or count re-emits.
  // `known`: this tab knows its role (the lock granted, or the leader's welcome).
  let known = false
  const show = (status: ConnectionStatus): ConnectionStatus => {
    current = status
    const shown =
      role === undefined || !known
        ? status
        : { ...status, tabs: { role, count: role === 'leader' ? count : (status.tabs?.count ?? count) } }
    status$.next(shown)
    return shown
  }

  // What the leader posts is batched per task: a frame of fifty events is one message.
  let batch: Item[] = []
  const post = (item: Item): void => {
    const channel = session?.channel
    // Posting starts with the first follower: a tab alone clones nothing.
    if (channel === undefined || role !== 'leader' || (count < 2 && greeted.size === 0)) return
    if (batch.length === 0) {
      queueMicrotask(() => {
        const items = batch
        batch = []
        channel.postMessage({ type: 'out', items } satisfies Message)
      })
    }
    batch.push(item)
  }

  const apply = (item: Item): void => {
    switch (item[0]) {
      case 'status':
        show(item[1])
        return
      case 'control':
        control$.next(item[1])
        return
      case 'event':
        offered.next(item[1])
        return
      case 'diagnostic':
        diagnostic$.next(item[1])
        return
      case 'frame':
        frame$.next(item[1])
        return
      case 'metrics':
        metrics$.next(item[1])
        return
    }
  }

  /** Emits here, and (leading) on the channel; a status as this tab shows it, with the count. */
  const deliver = (item: Item): void => {
    if (item[0] === 'status') return post(['status', show(item[1])])
    post(item)
    apply(item)
  }

  /** Counts the tabs waiting for the lock (every follower waits), and says so when it changed. */
  const recount = (s: Session, forget = false): void => {
    if (forget) greeted.clear()
    environment.locks.query().then(
      (snapshot) => {
        if (session !== s || role !== 'leader') return
        const waiting = snapshot.pending?.filter((request) => request.name === s.name).length ?? 0
        const counted = 1 + Math.max(waiting, greeted.size)
        if (counted === count) return
        count = counted
        deliver(['status', current])
      },
      () => undefined,
    )
  }

  const lead = (s: Session): void => {
    const following = role === 'follower' && current.state !== 'closed' && current.state !== 'connecting'
    role = 'leader'
    known = true
    greeted.clear()
    if (following) {
      show({ state: 'reconnecting', since: now(), attempt: 0, delayMs: 0, nextRetryAt: now(), detail: 'The tab that held the connection left: this tab takes it over and fills the gap.' })
    }
    const inner = open(mark)
    s.inner = inner
    let replayed = true
    s.subscriptions.push(
      inner.status$.subscribe((status) => {
        // The first status is the inner client's replayed `closed`, from before it opened.
        if (replayed) return void (replayed = false)
        deliver(['status', status])
      }),
      inner.control$.subscribe((payload) => {
        if (payload.code === 'ready' && mark === undefined && config.resume) mark = { ts: payload.ts ?? now() / 1000, eid: '' }
        deliver(['control', payload])
      }),
      inner.event$.subscribe((event) => deliver(['event', event])),
      inner.diagnostic$.subscribe((diagnostic) => deliver(['diagnostic', diagnostic])),
      inner.frame$.subscribe((text) => deliver(['frame', text])),
      inner.metrics$.subscribe((metrics) => deliver(['metrics', metrics])),
    )
    if (s.channel !== undefined) {
      s.channel.postMessage({ type: 'lead' } satisfies Message)
      recount(s)
      s.recount = scheduler.schedule(function (this: { schedule(state?: unknown, delay?: number): void }) {
        recount(s, true)
        this.schedule(undefined, TabsRecountMs)
      }, TabsRecountMs)
    }
  }

  const receive = (s: Session, message: Message): void => {
    if (role === 'follower') {
      switch (message.type) {
        case 'out':
          if (Array.isArray(message.items)) for (const item of message.items) apply(item)
          return
        case 'lead':
          s.channel?.postMessage({ type: 'hello', tab: me } satisfies Message)
          return
        case 'welcome':
          if (message.to !== me) return
          if (message.mark !== undefined && (mark === undefined || message.mark.ts > mark.ts)) mark = message.mark
          for (const event of message.history ?? []) offered.next(event)
          known = true
          show(message.status)
          return
      }
      return
    }
    if (role !== 'leader') return
    switch (message.type) {
      case 'hello':
        greeted.add(message.tab)
        s.channel?.postMessage({
          type: 'welcome',
          to: message.tab,
          status: status$.value,
          ...(mark === undefined ? {} : { mark }),
          ...(config.sendAll ? { history: retained } : {}),
        } satisfies Message)
        recount(s)
        return
      case 'bye':
        greeted.delete(message.tab)
        recount(s)
        return
      case 'reconnect':
        s.inner?.reconnect()
        return
    }
  }

  const join = (): void => {
    const s: Session = { abort: new AbortController(), subscriptions: [] }
    session = s
    role = 'follower'
    known = false
    count = 1
    show({ state: 'connecting', since: now(), detail: 'Looking for a tab that holds this connection already.' })
    let identity: string
    try {
      identity = JSON.stringify([read(config.url), config.bot, read(config.id), read(config.token), config.sendAll, config.sendNone, config.resume])
    } catch {
      // An option function that throws: this tab's own client reports it, as unshared.
      lead(s)
      return
    }
    digest(identity).then(
      (hex) => {
        if (session !== s) return
        const name = `fates-rx:${Version}:${hex}`
        const channel = new environment.BroadcastChannel(name)
        s.name = name
        s.channel = channel
        channel.onmessage = (event) => {
          if (session === s && isMessage(event.data)) receive(s, event.data)
        }
        environment.locks
          .request(name, { signal: s.abort.signal }, () => {
            if (session !== s) return Promise.resolve()
            lead(s)
            return new Promise<void>((resolve) => (s.release = resolve))
          })
          // Aborted: this tab left before it led.
          .catch(() => undefined)
        channel.postMessage({ type: 'hello', tab: me } satisfies Message)
      },
      () => {
        if (session === s) lead(s)
      },
    )
  }

  const leave = (detail: string): void => {
    const s = session
    if (s === undefined) return
    session = undefined
    s.abort.abort()
    s.release?.()
    s.recount?.unsubscribe()
    for (const subscription of s.subscriptions) subscription.unsubscribe()
    if (role === 'follower') s.channel?.postMessage({ type: 'bye', tab: me } satisfies Message)
    s.channel?.close()
    role = undefined
    show({ state: 'closed', since: now(), detail })
  }

  let refs = 0
  let stopped = false
  const lazy = <T>(source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      const inner = source.subscribe(subscriber)
      if (subscriber.closed) return inner
      if (refs++ === 0 && !stopped) join()
      return () => {
        inner.unsubscribe()
        if (--refs !== 0) return
        // As unshared: the next subscriber starts afresh.
        mark = undefined
        leave('No subscribers left.')
      }
    })

  return {
    frame$: lazy(frame$),
    control$: lazy(control$),
    event$: lazy(event$),
    diagnostic$: lazy(diagnostic$),
    status$: lazy(status$),
    metrics$: lazy(metrics$),
    close: () => {
      stopped = true
      leave('Closed by the user.')
    },
    reconnect: () => {
      if (stopped) {
        stopped = false
        if (refs > 0) join()
      } else if (role === 'leader') session?.inner?.reconnect()
      else session?.channel?.postMessage({ type: 'reconnect' } satisfies Message)
    },
  }
}
