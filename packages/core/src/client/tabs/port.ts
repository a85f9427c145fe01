import type { SchedulerLike, Subscription } from 'rxjs'
import type { ReceivedEvent } from '../../codec/codecs.js'
import { EventIdMemory } from '../../operators/dedupe-events.js'
import type { FatesClient } from '../fates-client.js'
import { identityText, NameVersion, sha256 } from '../digest.js'
import type { HubJoin, HubMessage, PortMessage } from './hub-machine.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import type { ResolvedOptions } from '../options.js'
import type { PersistStore } from '../persist/persist-support.js'
import { emitItem, endsReplay, isItem, isPostedEvent, markKeeper, parseMark, received, tabStreams } from './tab-streams.js'
import type { TabItem } from './tabs-machine.js'
import type { SharedWorkerLike, TabLocks, TabsEnvironment, WorkerPortLike, WorkerSharing } from './tab-support.js'
import type { Watermark } from '../connection/watermark.js'

// A tab's side of `shareAcrossTabs: { worker }`: one MessagePort to the SharedWorker's hub
// (hub.ts). The tab joins its target (the digest names it; the options, token included, go
// only down this port, to the worker that opens the socket), and its streams are what the hub
// fans out. The tab keeps its own eid dedupe and resume mark (in sessionStorage, so that a
// reloaded tab, or one whose worker was restarted, asks for what it missed).

const noMetrics: ConnectionMetrics = { frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }

/** The default wait for the worker's welcome (ms). */
export const WelcomeTimeoutMs = 5_000

const Say = Object.freeze({
  joining: 'Joining the SharedWorker that holds this connection.',
  left: 'No subscribers left.',
  closed: 'Closed by the user.',
})


/** The connection's options as plain data for the worker: read now, functions and constructors left out. */
function wireOptions(config: ResolvedOptions, values: { url: string; id: string; token: string }): Record<string, unknown> {
  const plain: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(config)) if (typeof value !== 'function' && key !== 'persist' && value !== undefined) plain[key] = value
  return { ...plain, ...values }
}

/**
 * The client of connect() with `shareAcrossTabs: { worker }`: fed by the worker's hub over a
 * port, or, where there is no worker, by the tabs' election (`elect`) or this tab's own client
 * (`own`, with `fallback: false`), saying so.
 */
export function workerClient(
  sharing: WorkerSharing,
  config: ResolvedOptions,
  elect: (how: true | TabsEnvironment) => FatesClient,
  own: () => FatesClient,
  scheduler: SchedulerLike,
): FatesClient {
  const fallback = (): FatesClient => (sharing.fallback === false ? own() : elect(sharing.fallback ?? true))
  const now = (): number => scheduler.now()
  const digest = sharing.digest ?? sha256
  const locks = sharing.locks ?? (globalThis as { navigator?: { locks?: TabLocks } }).navigator?.locks
  const welcomeMs = sharing.welcomeTimeoutMs ?? WelcomeTimeoutMs
  let store: Partial<PersistStore> | undefined
  try {
    store = config.persist === true ? (globalThis as { localStorage?: PersistStore }).localStorage : config.persist === false ? undefined : config.persist
  } catch {
    // Storage blocked for this page: the tab merely forgets across reloads.
  }

  const streams = tabStreams({ state: 'closed', since: now(), detail: 'Not opened yet: the connection opens on the first subscription.' }, noMetrics)
  const { frame$, control$, event$, diagnostic$, status$, metrics$ } = streams
  const memory = new EventIdMemory(config.dedupeCapacity)

  let subscribed = false
  let stopped = false
  let worker: SharedWorkerLike | undefined
  /** The worker whose lock this tab waits for. */
  let watched: SharedWorkerLike | undefined
  let fellBack: FatesClient | undefined
  let fellBackSubscriptions: Subscription[] = []
  /** Counts joinings: an answer to an earlier one (a digest, a lock) is ignored. */
  let joining = 0
  /**
   * Joins posted to the current worker that it has not answered yet. Its hub answers each join
   * with one welcome, in order: a welcome while another is due is a joining's left meanwhile (a
   * quick resubscribe), and so are the batches before this joining's welcome (their events come
   * again in its history, further back than a small dedupe remembers).
   */
  let unanswered = 0
  /** Joined and not left: messages in flight after a leave are ignored. */
  // Stryker disable next-line BooleanLiteral: equivalent: before the first joining there is no worker to hear from, and a leave posts nothing before a target is named.
  let active = false
  /** The session's mark is read once, by the first joining: later ones start afresh, as unshared. */
  let restored = false
  /** Why the tab fell back, added to every status's detail. */
  // Stryker disable next-line StringLiteral: equivalent: set by the fallback before anything reads it.
  let note = ''
  let timer: Subscription | undefined
  let release: (() => void) | undefined
  let name: string | undefined
  let mark: Watermark | undefined
  /** The mark a replay under way gives once it has ended (`received` in tab-streams.ts): not stored. */
  let replayMark: Watermark | undefined
  /** The mark of the record the last join carried (persist on): where the hub's fill starts. */
  let recordMark: Watermark | undefined
  // Unset meanwhile (the last subscriber left), or no target named yet (a fallback before the
  // digest): nothing to keep.
  const kept = markKeeper(sharing.session, () => ({ mark, name }))
  const saveMark = kept.save

  const deliver = (event: ReceivedEvent): void => {
    const eid = event.m.eid
    if (eid !== undefined && !memory.firstSight(eid)) return
    const moved = config.resume ? received(mark, replayMark, event, now()) : undefined
    if (moved !== undefined) {
      replayMark = moved.replay
      if (moved.mark !== mark) {
        mark = moved.mark
        saveMark()
      }
    }
    event$.next(event)
  }

  /** A replay under way is whole: its mark is the tab's. */
  const replayWhole = (): void => {
    if (replayMark === undefined) return
    mark = replayMark
    replayMark = undefined
    saveMark()
  }

  const emit = (item: TabItem): void => {
    emitItem(streams, item, deliver)
    if (endsReplay(item)) replayWhole()
  }

  const post = (message: PortMessage): void => {
    if (message.type === 'join') unanswered += 1
    worker?.port.postMessage(message)
  }

  /** The worker is gone (its lock was granted to this tab): the next joining makes a new one. */
  const gone = (dead: SharedWorkerLike): void => {
    // (An equivalent mutant, left counted: `if (false)`. A worker's lock is asked for while it is
    // the tab's worker, and granted once; after that the tab has none or a new one.)
    if (worker !== dead) return
    worker = undefined
    if (!active || typeof sharing.worker !== 'function') {
      if (active) fallBack('the worker stopped')
      return
    }
    // Rejoin a new worker with this tab's mark: its connection fills the gap from the server.
    leave()
    join()
  }

  const onMessage = (from: SharedWorkerLike, data: unknown): void => {
    if (from !== worker || typeof data !== 'object' || data === null) return
    const message = data as HubMessage
    // Counted once left too: a welcome that comes after its join was left still answers it.
    if (message.type === 'welcome') unanswered -= 1
    if (!active) return
    // A subscriber may close(), leave or rejoin inside an emission: the rest is not this joining's.
    const at = joining
    switch (message.type) {
      case 'welcome':
        if (unanswered > 0) return
        // A worker of another version (one still running at the same URL across a deploy)
        // or a broken one: nothing of it is read, and the tab connects on its own at once
        // rather than when its wait for a welcome ends.
        if (!Array.isArray(message.history) || !message.history.every(isPostedEvent)) return fallBack('its welcome was unreadable (another version?)')
        // The answer: this joining's wait for it ends (each joining's wait is its own, as each
        // joining is preceded by a leave, which ends the wait before).
        // Stryker disable next-line OptionalChaining: equivalent: a welcome is heard only while joined, after the joining armed its wait.
        timer?.unsubscribe()
        // Held by the worker while it lives: granted to this tab only once it has stopped.
        if (message.lock !== undefined && locks !== undefined && watched !== from) {
          watched = from
          locks
            .request(message.lock, {}, () => {
              gone(from)
              return Promise.resolve()
            })
            .catch(() => undefined)
        }
        // A tab that has delivered nothing yet marks its joining: if it reloads (or its worker
        // stops) before the first event, what was published meanwhile is still after its mark.
        // Its record's mark, when it has one: the hub fills the gap since that older one, and
        // a rejoin from the joining time would skip what that fill had not yet delivered.
        if (config.resume && mark === undefined) {
          mark = recordMark ?? { ts: now() / 1000, eid: '', clock: 0 }
          saveMark()
        }
        for (const event of message.history) if (at === joining) deliver(event)
        // The fill is whole (what the hub delivered after this tab's mark, in order), though
        // the hub marks it resumed: it counts at once, or a second reload with no live event
        // between would get it again.
        replayWhole()
        if (message.status !== undefined && at === joining) status$.next(message.status)
        return
      case 'out':
        if (unanswered > 0 || !Array.isArray(message.items) || !message.items.every(isItem)) return
        for (const item of message.items) if (at === joining) emit(item)
        return
      case 'store':
        try {
          // A store may answer with a promise: its rejection is handled too.
          // Stryker disable next-line OptionalChaining: equivalent: a missing store or method throws here, and the catch answers alike.
          void Promise.resolve(store?.setItem?.(message.key, message.text)).catch(() => undefined)
        } catch {
          // As persist: the next page merely knows less.
        }
        return
    }
  }

  /** Leaves the worker: the port's join ends, and the tab's lock goes (the hub would see it too). */
  const leave = (): void => {
    joining += 1
    active = false
    timer?.unsubscribe()
    timer = undefined
    // A join was posted only once the target was named.
    if (name !== undefined) post({ type: 'leave' })
    release?.()
    release = undefined
  }

  const fallBack = (why: string): void => {
    if (fellBack !== undefined) return
    leave()
    const client = fallback()
    fellBack = client
    note = `Not shared through a SharedWorker: ${why}.`
    if (subscribed && !stopped) follow(client)
  }

  /** Feeds this tab's streams from the fallback client. */
  const follow = (client: FatesClient): void => {
    fellBackSubscriptions = [
      client.status$.subscribe((status) => status$.next({ ...status, detail: status.detail === undefined ? note : `${status.detail} (${note})` })),
      client.control$.subscribe((payload) => control$.next(payload)),
      client.event$.subscribe(deliver),
      client.diagnostic$.subscribe((diagnostic) => diagnostic$.next(diagnostic)),
      client.frame$.subscribe((text) => frame$.next(text)),
      client.metrics$.subscribe((metrics) => metrics$.next(metrics)),
    ]
  }
  const unfollow = (): void => {
    for (const subscription of fellBackSubscriptions) subscription.unsubscribe()
    fellBackSubscriptions = []
  }

  const join = (): void => {
    if (fellBack !== undefined) return follow(fellBack)
    const joined = (joining += 1)
    active = true
    status$.next({ state: 'connecting', since: now(), detail: Say.joining })
    // Left by a subscriber that had what it wanted of that status (refCounted runs `last` at once).
    if (joined !== joining) return
    if (worker === undefined) {
      try {
        worker = typeof sharing.worker === 'function' ? sharing.worker() : sharing.worker
      } catch {
        return fallBack('this browser has no SharedWorker')
      }
      const made = worker
      unanswered = 0
      const port: WorkerPortLike = worker.port
      port.onmessage = (event) => onMessage(made, event.data)
      worker.addEventListener?.('error', () => fallBack('the worker script failed'))
      port.start?.()
    }
    timer = scheduler.schedule(() => {
      fallBack(`the worker did not answer within ${welcomeMs} ms`)
    }, welcomeMs)
    let values: { url: string; id: string; token: string }
    let identity: string
    try {
      const read = <T>(value: T | (() => T)): T => (typeof value === 'function' ? (value as () => T)() : value)
      values = { url: read(config.url), id: read(config.id), token: read(config.token) }
      identity = identityText(config)
    } catch {
      return fallBack('reading the url, id or token option threw')
    }
    digest(identity).then(
      async (hex) => {
        // A joining left meanwhile (close(), a fallback) names nothing: a later leave then posts
        // nothing, and the fallback's events keep no mark.
        if (joined !== joining) return
        name = `fates-rx:${NameVersion}:${hex}`
        if (!restored) mark = kept.read(name)
        restored = true
        let record: string | undefined
        if (store !== undefined) {
          try {
            // Stryker disable next-line OptionalChaining: equivalent: a store without getItem throws, and the catch answers alike.
            record = (await store.getItem?.(name)) ?? ''
          } catch {
            record = ''
          }
        }
        if (joined !== joining) return
        recordMark = parseMark(record)
        const message: HubJoin = {
          type: 'join',
          name,
          options: wireOptions(config, values),
          ...(mark === undefined ? {} : { from: mark }),
          ...(record === undefined ? {} : { record }),
        }
        if (locks === undefined) return post(message)
        // Held while this tab lives: the hub asks for it, and is granted it once the tab is gone.
        const lock = `${name}:tab:${Math.random().toString(36).slice(2)}${now().toString(36)}`
        locks
          .request(lock, {}, () => {
            if (joined !== joining) return Promise.resolve()
            post({ ...message, lock })
            return new Promise<void>((resolve) => (release = resolve))
          })
          .catch(() => undefined)
      },
      () => fallBack('the target could not be digested'),
    )
  }

  // Window unload: say goodbye at once, so that the hub's count is right before the lock says so.
  // A page restored from the back-forward cache joins again. Listened to only while subscribed
  // and not closed: a page that makes a client per view must not keep every one (and its eid
  // memory) alive through the window's listeners.
  type Listener = (event: { persisted?: boolean }) => void
  type Listen = (type: string, listener: Listener) => void
  const scope = globalThis as { addEventListener?: Listen; removeEventListener?: Listen }
  const onHide: Listener = () => {
    if (active) leave()
  }
  const onShow: Listener = (event) => {
    if (event.persisted === true && subscribed && !stopped && !active && fellBack === undefined) join()
  }
  let listening = false
  const listen = (on: boolean): void => {
    if (on === listening) return
    listening = on
    const method = on ? scope.addEventListener : scope.removeEventListener
    method?.call(scope, 'pagehide', onHide)
    method?.call(scope, 'pageshow', onShow)
  }

  const stop = (detail: string): void => {
    unfollow()
    leave()
    status$.next({ state: 'closed', since: now(), detail })
  }

  return streams.client(
    () => {
      subscribed = true
      if (!stopped) {
        listen(true)
        join()
      }
    },
    () => {
      subscribed = false
      mark = replayMark = undefined
      listen(false)
      stop(Say.left)
    },
    () => {
      if (stopped) return
      stopped = true
      listen(false)
      stop(Say.closed)
    },
    () => {
      if (stopped) {
        stopped = false
        if (subscribed) {
          listen(true)
          join()
        }
      } else if (fellBack !== undefined) fellBack.reconnect()
      else post({ type: 'reconnect' })
    },
  )
}
