import { connect, type ConnectOptions, type FatesClient, type PersistStore, type ReceivedEvent } from '@fates-rx/core'
import { DefaultDedupeCapacity, EventIdMemory, recordText } from '@fates-rx/core/sans-io'
import { CloseCode, CloseInfo, ControlCode, RelayCloseCode, RelayCloseInfo, RelayControlCode, ResumeCode, type Position } from '@fates-rx/core/protocol'
import type { Subscription } from 'rxjs'
import { WebSocket } from 'ws'
import { describe, type Logger } from '../log.js'
import { PublishError } from '../publish.js'
import { ServerDetail } from '../wire/details.js'
import type { PublishOptions, PublishOutcome, PublishRequest } from '../protocol/publish-events.js'
import type { ProtocolTimers, TimerHandle } from '../protocol/timers.js'
import type { Admission, Viewer, ViewerGate, ViewerRefusal } from '../protocol/viewers.js'
import { channelOf, GlobalChannel, type Credentials, type IdentityKind } from '../stores/store.js'
import { admission, CatchingUpDetail, HoldMs, IdleTarget, step, upstreamOpen, type Audience, type RetryPolicy, type TargetConfig, type TargetEffect, type TargetInput, type TargetState, type UpstreamStatus } from './machine.js'
import { asksFor, rememberLost, rewoundRecord, type LostEvent } from './rewind.js'
import { upstreamInput, upstreamNotice } from './upstream-status.js'

/** One relayed target as `/metrics` and `/healthz` report it. */
export interface UpstreamReport {
  /** The target's channel, `bot-<id>` or `server-<id>` (never a token or a URL). */
  readonly target: string
  /** Where its upstream connection is. */
  readonly status: UpstreamStatus
  /** Viewers connected for it. */
  readonly viewers: number
  /** Events received from its upstream since the relay started. */
  readonly events: number
  /** Upstream connections opened (one per period with viewers, not one per reconnect). */
  readonly opened: number
  /**
   * Upstream events not relayed: larger than {@link UpstreamLimits}`.maxEventBytes`, or on a
   * channel that is neither this target's nor `global`.
   */
  readonly refused: number
  /** Retries of a failed upstream since the relay started (by its backoff, or asked for). */
  readonly retries: number
  /**
   * Whether viewers can be served: false while the upstream connection is opening and has not
   * been live since it opened (silent TCP, no `identity`, a 5xx), and while it is `failed`.
   */
  readonly ready: boolean
}

/**
 * What a relay accepts from its upstream. An upstream event is passed to every viewer, so one
 * oversized event multiplies in every viewer's queue: events over `maxEventBytes` (the origin's
 * own `POST /publish` body limit) are dropped with a log line and counted, and a frame over
 * `maxFrameBytes` closes the upstream connection (1009) before it is read into memory.
 */
export const UpstreamLimits = Object.freeze({
  /** The largest upstream event relayed, as JSON (bytes of UTF-16 text, a close upper bound of UTF-8's for the usual ASCII). */
  maxEventBytes: 1024 * 1024,
  /** The largest upstream websocket message read (several events batched in one frame included). */
  maxFrameBytes: 16 * 1024 * 1024,
})

/** `ws` with the relay's frame limit, as core's `WebSocket` option. */
class LimitedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { maxPayload: UpstreamLimits.maxFrameBytes })
  }
}

/** What the relay needs from the server it runs in. */
export interface RelayContext {
  /** The server's publish path: stores (history, dedupe by eid) and fans out. */
  readonly publish: (requests: readonly PublishRequest[], options?: PublishOptions) => Promise<PublishOutcome[]>
  readonly logger: Logger
  readonly timers: ProtocolTimers
  /** The store's newest position in a channel (its `headOf`); absent: it stamps none. */
  readonly head?: (channel: string) => Promise<Position | undefined>
}

/** The settings of a {@link Relay}, checked and defaulted (see `RelayOptions`). */
export interface RelayConfig {
  /** The origin's websocket URL. */
  readonly upstream: string
  /** The bots relayed, with the origin's tokens. */
  readonly bots: readonly Credentials[]
  /** The servers (guilds) relayed, with the origin's tokens. */
  readonly servers: readonly Credentials[]
  /** How long an upstream connection outlives its last viewer (milliseconds). */
  readonly graceMs: number
  /** How a failed upstream is retried. @default the machine's `RetryDefaults` */
  readonly retry?: RetryPolicy
  /** How a batch the store refuses is retried before it is fetched again. @default {@link PublishRetry} */
  readonly storeRetry?: StoreRetry
  /** Extra options for each upstream `connect()` (tests shorten backoff or inject a socket). */
  readonly connect?: Partial<Omit<ConnectOptions, 'url' | 'id' | 'token' | 'bot' | 'resume' | 'sendAll' | 'sendNone'>>
}

/** The most upstream events published in one go; see `#flush`. */
const PublishChunk = 100

/**
 * How the relay retries storing upstream events when the store fails (a Redis blip, a
 * failover): the first wait, doubling up to `maxMs`, until the waits would pass `giveUpMs`.
 * Retrying is safe (the store dedupes by eid) and keeps order (later batches wait behind it).
 * A minute covers a Redis restart or a Sentinel failover (seconds to tens of seconds); a store
 * down longer is an outage, where holding every later event in memory helps no one.
 * With these numbers: 12 attempts over about 56 s.
 */
export const PublishRetry: StoreRetry = Object.freeze({ firstMs: 250, maxMs: 8_000, giveUpMs: 60_000 })

/** How a batch the store refuses is retried (see {@link PublishRetry}, the defaults). */
export interface StoreRetry {
  /** The first wait (milliseconds). */
  readonly firstMs: number
  /** The longest wait, the waits doubling up to it (milliseconds). */
  readonly maxMs: number
  /** When the waits would pass this, the batch is given up and fetched again (milliseconds). */
  readonly giveUpMs: number
}

/**
 * The wait before retry number `failures` (1 for the first) when `waitedMs` were already waited
 * for this batch, or `undefined` when the batch is to be given up. Pure.
 */
export function publishRetryDelay(failures: number, waitedMs: number, policy: StoreRetry = PublishRetry): number | undefined {
  const ms = Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 30))
  return waitedMs + ms > policy.giveUpMs ? undefined : ms
}

interface Target {
  readonly kind: IdentityKind
  readonly id: string
  readonly token: string
  readonly channel: string
  state: TargetState
  readonly viewers: Set<Viewer>
  /** Viewers held while the target catches up, not yet let in (the machine's `held` counts these and {@link joining}). */
  readonly held: Set<Viewer>
  /** Held viewers let in (`admit-held`) that have not joined yet. */
  readonly joining: Set<Viewer>
  client: FatesClient | undefined
  subscription: Subscription | undefined
  grace: TimerHandle | undefined
  retry: TimerHandle | undefined
  retries: number
  events: number
  opened: number
  refused: number
  /** The upstream was live since it was last opened. */
  liveSinceOpened: boolean
  /** When the upstream was last opened (ms since the epoch): its first viewer's joining. */
  openedAt: number
  /**
   * The upstream client's `persist` record (core's text: the newest event it delivered, and its
   * identify ledger), kept across its subscriptions so that a reopening resumes where the last
   * one stopped; set at the first opening to that opening's mark.
   */
  record: string | undefined
  /** Which upstream client this is: raised each time a fresh one replaces it (`refill-upstream`). */
  generation: number
  /** Events the store gave up on that the next fresh client must ask for again: its record is rewound to them. */
  lostMarks: LostEvent[]
  /** The record the current client resumed from (read when it was made): what it asks for ({@link asksFor}). */
  resumedFrom: string | undefined
  /**
   * The eids of this target's own channel's events the store gave up on (`global`'s are the
   * relay's, `#lostGlobal`), until they come again: each is then published as
   * it was the first time (`true`: live, to viewers who missed it; `false`: history only),
   * whatever the new client says of it. At most {@link DefaultDedupeCapacity}, the oldest
   * forgotten first (an origin whose history let them go never sends them again).
   */
  readonly lost: Map<string, boolean>
  /** The `await-stored` whose `stored` the machine is waiting for; any other is stale. */
  awaiting: object | undefined
}

/** An upstream event as queued for the store: `channel` and `event` only, as the publish path takes it. */
interface Relayed extends PublishRequest {
  readonly channel: string
  readonly event: { readonly m: ReceivedEvent['m']; readonly ctx: unknown }
}

/**
 * Where a queued event came from, for a batch the store gives up on (`#lose`): kept beside the
 * request rather than in it, so that nothing of a target (its token) rides the publish path.
 */
interface Source {
  /** The target whose upstream delivered it. */
  readonly target: Target
  /** That target's client when it did ({@link Target.generation}). */
  readonly generation: number
}

interface Pending {
  readonly target: Target
  readonly input: TargetInput
  readonly viewer: Viewer | undefined
}

/**
 * The relay's effectful edge: one upstream `connect()` from `@fates-rx/core` per relayed target,
 * opened and closed as the pure {@link step} decides, its events published into the server's own
 * store and fan-out. It is the server's {@link ViewerGate}: viewers identify with the relay's
 * tokens, and only the relay ever holds the upstream's.
 *
 * Like core's `connect()`, it is an interpreter: inputs (viewers joining and leaving, the grace
 * timer, upstream statuses) queue, and each step's effects run before the next input, so an
 * effect that causes an input (opening the client emits a status) never sees half-changed state.
 */
export class Relay implements ViewerGate {
  readonly #config: RelayConfig
  readonly #context: RelayContext
  readonly #targets = new Map<string, Target>()
  readonly #queue: Pending[] = []
  readonly #stepConfig: TargetConfig
  #draining = false
  #closed = false
  #publishing: Promise<void> = Promise.resolve()
  #batch: Relayed[] = []
  /** The origin's replayed history waiting to be stored (history only). */
  #history: Relayed[] = []
  /** Ends the wait of a publish retry early (at `close`); undefined when none waits. */
  #wake: (() => void) | undefined
  /** Each queued event's {@link Source}. */
  readonly #sources = new WeakMap<Relayed, Source>()
  /**
   * As a target's `lost`, for `global` events: whichever target's upstream brings one again
   * (every upstream receives `global`), it is published, though `#globalSeen` knows it.
   */
  readonly #lostGlobal = new Map<string, boolean>()
  /** The eids of the `global` events received lately, from any target's upstream (see `#received`). */
  readonly #globalSeen = new EventIdMemory(DefaultDedupeCapacity)
  /** Per channel, the store's newest position before an upstream gap not filled: a resume from it or before is not exact. */
  readonly #floors = new Map<string, Position>()

  constructor(config: RelayConfig, context: RelayContext) {
    this.#config = config
    this.#context = context
    this.#stepConfig = { graceMs: config.graceMs, ...(config.retry === undefined ? {} : { retry: config.retry }) }
    for (const [kind, list] of [['bot', config.bots], ['server', config.servers]] as const) {
      for (const { id, token } of list) {
        const channel = channelOf(kind, id)
        this.#targets.set(channel, { kind, id, token, channel, state: IdleTarget, viewers: new Set(), held: new Set(), joining: new Set(), events: 0, opened: 0, refused: 0, retries: 0, liveSinceOpened: false, openedAt: 0, record: undefined, generation: 0, lostMarks: [], resumedFrom: undefined, lost: new Map(), awaiting: undefined, client: undefined, subscription: undefined, grace: undefined, retry: undefined })
      }
    }
  }

  /**
   * Before the first viewer: a target whose store already holds events (a relay restarted on a
   * persistent store, or one started beside another on the same Redis) resumes its upstream from
   * the newest of them, and holds its viewers until that replay is stored, as after a grace
   * period's close: what the origin published while no upstream of this process held it is
   * fetched, or, past the origin's history, floored (a resume across it is not called exact).
   * Without it the first opening resumed from its own start, and a viewer resuming from before
   * the restart was told `exact` over events never fetched. `newest`: the newest `m.ts` the
   * store holds in a channel (Unix seconds), undefined when it holds none.
   */
  async restore(newest: (channel: string) => Promise<number | undefined>): Promise<void> {
    // A store that cannot answer now leaves its channels as a fresh relay's, said in the log (the
    // server starts all the same, as it did before restoring); read together, so that a hanging
    // store delays the start by one command timeout, not one per target.
    const read = (channel: string): Promise<number | undefined> =>
      newest(channel).catch((error: unknown) => {
        this.#context.logger.error(`relay: could not read the newest stored event of ${channel} (${describe(error)}): its upstream's first opening starts from now`)
        return undefined
      })
    const targets = [...this.#targets.values()]
    // Every upstream also carries `global`: a store holding only its events still resumes, and
    // the older of the two newest is where neither channel's gap has begun.
    const [global, ...owns] = await Promise.all([read(GlobalChannel), ...targets.map((target) => read(target.channel))])
    for (const [index, target] of targets.entries()) {
      const own = owns[index]
      const ts = own === undefined ? global : global === undefined ? own : Math.min(own, global)
      if (ts === undefined || target.record !== undefined) continue
      target.record = recordText({ mark: { ts, eid: '' }, ledger: {} })
      target.state = { ...target.state, behind: true }
    }
  }

  admit(kind: IdentityKind, id: string): Admission {
    const target = this.#targets.get(channelOf(kind, id))
    // A token lookup that knows more identities than the relay relays (PostgreSQL): those are
    // refused as unknown, never served an empty stream.
    if (target === undefined) {
      const closeCode = CloseCode.InvalidAuthentication
      return { code: ControlCode.InvalidAuth, detail: ServerDetail.noRows, closeCode, reason: CloseInfo[closeCode].reason }
    }
    switch (admission(target.state)) {
      case 'refuse':
        return failedRefusal(target.state.detail)
      case 'hold': {
        // The store may lack what was published while the upstream was closed: this viewer's
        // replay (or exact resume) would not be whole yet. It waits (`held`, which reopens the
        // upstream) and is let in once the gap is stored; if that takes too long, it is turned
        // away to come back on its client's backoff.
        const closeCode = CloseCode.InvalidConnection
        return { holdMs: HoldMs, refusal: { code: RelayControlCode.UpstreamConnecting, detail: CatchingUpDetail, closeCode, reason: CloseInfo[closeCode].reason } }
      }
      case 'admit':
        return undefined
    }
  }

  held(kind: IdentityKind, id: string, viewer: Viewer): void {
    const target = this.#targets.get(channelOf(kind, id))
    if (target === undefined) return
    target.held.add(viewer)
    this.#dispatch(target, { type: 'viewer-held' })
  }

  unheld(kind: IdentityKind, id: string, viewer: Viewer, turnedAway: boolean): void {
    const target = this.#targets.get(channelOf(kind, id))
    // Not held (any more): refused with the others when the upstream failed.
    if (target === undefined || !(target.held.delete(viewer) || target.joining.delete(viewer))) return
    this.#dispatch(target, { type: 'hold-ended', turnedAway })
  }

  joined(kind: IdentityKind, id: string, viewer: Viewer): void {
    const target = this.#targets.get(channelOf(kind, id))
    if (target === undefined) return
    const held = target.joining.delete(viewer) || target.held.delete(viewer)
    target.viewers.add(viewer)
    this.#dispatch(target, held ? { type: 'viewer-joined', held } : { type: 'viewer-joined' }, viewer)
  }

  left(kind: IdentityKind, id: string, viewer: Viewer): void {
    const target = this.#targets.get(channelOf(kind, id))
    if (target === undefined || !target.viewers.delete(viewer)) return
    this.#dispatch(target, { type: 'viewer-left' }, viewer)
  }

  floorOf(channel: string): Position | undefined {
    return this.#floors.get(channel)
  }

  /**
   * The upstream resumed a gap its origin could not fill (core's `gap: 'unknown'`): the store's
   * heads are read before what it replayed is stored (its events wait in the queue, behind this),
   * and a viewer resuming from one of them or before is not told its replay is exact.
   */
  #raiseFloor(target: Target, outcomes: Readonly<Record<string, string>> | undefined): void {
    const { head } = this.#context
    if (head === undefined) return
    // Only the channels the origin did not replay exactly (all of them without its `resume`).
    const channels = [target.channel, GlobalChannel].filter((channel) => outcomes?.[channel] !== 'exact')
    this.#publishing = this.#publishing.then(async () => {
      for (const channel of channels) {
        const position = await head(channel).catch(() => undefined)
        if (position === undefined) continue
        const kept = this.#floors.get(channel)
        if (kept === undefined || kept.epoch !== position.epoch || kept.offset < position.offset) this.#floors.set(channel, position)
      }
    })
  }

  /** Every relayed target's upstream, for `/metrics` and `/healthz`. */
  upstreams(): UpstreamReport[] {
    return [...this.#targets.values()].map((t) => ({
      target: t.channel,
      status: t.state.upstream,
      viewers: t.state.viewers,
      events: t.events,
      opened: t.opened,
      refused: t.refused,
      retries: t.retries,
      ready: servable(t),
    }))
  }

  /**
   * Retries every failed upstream now, without waiting for its backoff (`SIGHUP`,
   * `POST /admin/upstreams/retry`); the others are left alone. Returns the targets retried.
   */
  retryNow(): string[] {
    if (this.#closed) return []
    const retried: string[] = []
    for (const target of this.#targets.values()) {
      if (target.state.upstream !== 'failed') continue
      retried.push(target.channel)
      this.#dispatch(target, { type: 'retry-now' })
    }
    return retried
  }

  /**
   * Closes every upstream connection and stops every timer; resolves once queued events are
   * published (a batch waiting to retry a failed store gets one last attempt, at once).
   */
  async close(): Promise<void> {
    this.#closed = true
    this.#wake?.()
    for (const target of this.#targets.values()) {
      this.#dispatch(target, { type: 'stop' })
      // Whatever the machine thought: nothing of the relay's outlives it.
      target.grace?.cancel()
      target.retry?.cancel()
      this.#closeUpstream(target)
    }
    await this.#publishing
  }

  #dispatch(target: Target, input: TargetInput, viewer?: Viewer): void {
    this.#queue.push({ target, input, viewer })
    if (this.#draining) return
    this.#draining = true
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        const { state, effects } = step(next.target.state, next.input, this.#stepConfig)
        next.target.state = state
        if (state.upstream === 'live') next.target.liveSinceOpened = true
        for (const effect of effects) this.#perform(next.target, effect, next.viewer)
      }
    } finally {
      this.#draining = false
    }
  }

  #perform(target: Target, effect: TargetEffect, joined: Viewer | undefined): void {
    const { logger, timers } = this.#context
    switch (effect.type) {
      case 'open-upstream':
        if (!this.#closed) this.#openUpstream(target)
        return
      case 'close-upstream':
        this.#closeUpstream(target)
        return
      case 'arm-grace':
        target.grace?.cancel()
        // Viewers leaving as the server shuts down must not leave a timer holding the process.
        if (this.#closed) return
        target.grace = timers.after(effect.ms, () => this.#dispatch(target, { type: 'grace-expired' }))
        return
      case 'cancel-grace':
        target.grace?.cancel()
        target.grace = undefined
        return
      case 'arm-retry':
        target.retry?.cancel()
        if (this.#closed) return
        target.retry = timers.after(effect.ms, () => this.#dispatch(target, { type: 'retry-due' }))
        return
      case 'cancel-retry':
        target.retry?.cancel()
        target.retry = undefined
        return
      case 'retry-upstream':
        target.retry = undefined
        if (this.#closed) return
        target.retries++
        target.liveSinceOpened = false
        // The failed client is still subscribed: reconnect() opens a socket again, within core's
        // identify budget. Without a subscription (its client was replaced while it had failed,
        // `refill-upstream`), subscribing a fresh one connects, as a reconnect would.
        if (target.subscription === undefined) this.#openUpstream(target, true)
        else target.client?.reconnect()
        return
      case 'tell': {
        const viewers = audience(target, effect.to, joined)
        this.#inOrder(effect.to, () => {
          for (const viewer of viewers) viewer.tell(effect.code, effect.detail)
        })
        return
      }
      case 'admit-held': {
        const held = [...target.held]
        target.held.clear()
        for (const viewer of held) {
          target.joining.add(viewer)
          viewer.admitted()
        }
        return
      }
      case 'refuse': {
        const { reason } = RelayCloseInfo[RelayCloseCode.UpstreamFailed]
        const viewers = audience(target, effect.to, joined)
        if (effect.to === 'held') {
          // Refused, the held are let go of (as the machine's count is): no `unheld` follows.
          target.held.clear()
          target.joining.clear()
        }
        this.#inOrder(effect.to, () => {
          for (const viewer of viewers) viewer.refuse(RelayControlCode.UpstreamFailed, effect.detail, RelayCloseCode.UpstreamFailed, reason)
        })
        return
      }
      case 'log':
        logger.info(`upstream ${target.kind} ${target.id}: ${effect.line}`)
        return
      case 'await-stored': {
        this.#flush()
        // Only the newest counts: one asked for before a drop or a refill would be dispatched
        // once a later client is live, before what that one replayed is stored.
        const token = {}
        target.awaiting = token
        this.#publishing = this.#publishing.then(() => {
          if (target.awaiting !== token) return
          target.awaiting = undefined
          this.#dispatch(target, { type: 'stored' })
        })
        return
      }
      case 'refill-upstream':
        this.#refill(target, effect.reopen)
        return
    }
  }

  /**
   * Runs `notify` for the viewers: at once for the one that just joined (its `ready` was just
   * queued) and for held ones (sent nothing yet), else after every event received before it has
   * been published, so that news about the upstream keeps its place among the events
   * (`upstream_live` after the gap it filled).
   */
  #inOrder(to: Audience, notify: () => void): void {
    if (to !== 'all') {
      notify()
      return
    }
    this.#flush()
    this.#publishing = this.#publishing.then(notify)
  }

  /**
   * Subscribes the target's client (a fresh one if there is none), counted as an opening unless
   * it only `resumes` one: a failed or refilled client replaced, which is a reconnect to viewers.
   */
  #openUpstream(target: Target, resumes = false): void {
    if (!resumes) {
      target.opened++
      target.liveSinceOpened = false
      target.openedAt = Date.now()
    }
    // A fresh client after a loss of the store's: from before the lost events (rewind.ts).
    if (target.client === undefined) {
      if (target.lostMarks.length > 0) target.record = rewoundRecord(target.record, target.lostMarks)
      target.lostMarks = []
      target.resumedFrom = target.record
    }
    // One client per target for the relay's life, subscribed while the upstream is open: core
    // keeps its identify budget across subscriptions, so viewers who come and go around the
    // grace period cannot spend the upstream's ratelimit. Each subscription resumes through
    // core's `persist`, from the newest event the relay received (the first: from its opening),
    // so that the store gets what the origin published while the upstream was closed; see
    // `#received` for what of it is relayed live.
    // A record kept from an earlier subscription: this one resumes a gap of the relay's store
    // (as does any later live of this one: a reconnect, or a failed upstream's retry, which
    // resets `liveSinceOpened`).
    let resumesGap = target.record !== undefined
    target.record ??= recordText({ mark: { ts: liveFrom(target), eid: '' }, ledger: {} })
    const client = (target.client ??= connect({
      WebSocket: LimitedWebSocket as unknown as NonNullable<ConnectOptions['WebSocket']>,
      ...this.#config.connect,
      url: this.#config.upstream,
      id: target.id,
      token: target.token,
      bot: target.kind === 'bot',
      resume: true,
      // The origin's history too, kept (not relayed live) so that a viewer's `send_all` gets it
      // as a direct client would; the server's `--history` bounds it.
      sendAll: true,
      persist: keptRecord(target),
    }))
    // The upstream connection's `resume` payload: per channel, whether the origin replayed it exactly.
    let outcomes: Readonly<Record<string, string>> | undefined
    const subscription = client.status$.subscribe((status) => {
      const input = upstreamInput(status, !target.liveSinceOpened)
      if (input === undefined) return
      if (status.state === 'identifying') outcomes = undefined
      if (status.state === 'live') {
        if (status.gap === 'unknown' && resumesGap) this.#raiseFloor(target, outcomes)
        resumesGap = true
      }
      // A failure's retry is timed from now, jittered: the machine gets both as data.
      this.#dispatch(target, input.status === 'failed' ? { ...input, at: Date.now(), random: Math.random() } : input)
    })
    subscription.add(
      client.control$.subscribe((payload) => {
        if (payload.code === ResumeCode) outcomes = (payload as { channels?: Record<string, string> }).channels
        const input = upstreamNotice(payload)
        if (input !== undefined) this.#dispatch(target, input)
      }),
    )
    subscription.add(
      client.diagnostic$.subscribe((d) => this.#context.logger.error(`upstream ${target.kind} ${target.id}: ${d.kind}: ${d.message}`)),
    )
    subscription.add(client.event$.subscribe((event) => this.#received(target, event)))
    target.subscription = subscription
  }

  /**
   * Replaces the upstream client with a fresh one (the old one's eid dedupe would drop what the
   * store lost) whose record is rewound to before the lost events (`#openUpstream`); opened now
   * when `reopen`, else by the next opening or retry. (The old one writes its record in a
   * microtask after its events, so none of its writes is left to undo the rewind: this runs in
   * a turn of its own, the publish chain's, and closing writes nothing.)
   */
  #refill(target: Target, reopen: boolean): void {
    this.#closeUpstream(target)
    target.client = undefined
    target.generation++
    target.awaiting = undefined
    if (reopen && !this.#closed) this.#openUpstream(target, true)
  }

  /** Ends the subscription: core closes the socket (1000) with its last subscriber. */
  #closeUpstream(target: Target): void {
    const { subscription } = target
    target.subscription = undefined
    subscription?.unsubscribe()
  }

  /**
   * An event from upstream: queued for the next publish, which takes every event that arrived
   * in the same turn (one upstream frame often holds many) as one batch, in order.
   */
  #received(target: Target, event: ReceivedEvent): void {
    target.events++
    // The event as published, without the client's marks (`chan`, `prior`, `resumed`): m keeps
    // its eid and ts, so a relay in front of this one recognizes what it already has.
    const published = { m: event.m, ctx: event.ctx }
    const problem = upstreamEventProblem(target, event.chan, published)
    if (problem !== undefined) {
      target.refused++
      this.#context.logger.error(`upstream ${target.kind} ${target.id}: event ${typeof event.m.eid === 'string' ? event.m.eid.slice(0, 64) : '(no eid)'} not relayed: ${problem}`)
      return
    }
    const channel = event.chan === GlobalChannel ? GlobalChannel : target.channel
    // Every target's upstream receives `global`: one that resumes after the others relayed its
    // events would store them again, and relay them live, once the store's bounded history no
    // longer holds their eids. A target's own channel has one upstream, whose client dedupes.
    // But one the store gave up on, come again, is queued as it was the first time (the viewers
    // connected then missed it), though `#globalSeen` knows it and the new client calls it resumed.
    const eid = event.m.eid
    const request: Relayed = { channel, event: published }
    this.#sources.set(request, { target, generation: target.generation })
    const lostMap = channel === GlobalChannel ? this.#lostGlobal : target.lost
    const lost = eid === undefined ? undefined : lostMap.get(eid)
    if (lost !== undefined) {
      lostMap.delete(eid as string)
      this.#enqueue(request, !lost)
      return
    }
    if (channel === GlobalChannel && eid !== undefined && !this.#globalSeen.firstSight(eid)) return
    // Relayed live: what the origin published since this subscription opened (less the clocks'
    // skew), as a direct client identified then would have had it, and what core resumes after a
    // drop. Stored only, for viewers' replays: the origin's history (`prior`), and a reopening's
    // gap (`resumed` but published before the opening, while no viewer was connected: a viewer
    // who comes back replays it; one who connects afresh did not ask for it, as at the origin).
    // Its own queue, published before the live batch of the same turn, so that the store keeps
    // the upstream's order and a replay asked for later holds it.
    const ts = event.m.ts
    const gap = event.resumed === true && typeof ts === 'number' && ts < liveFrom(target)
    this.#enqueue(request, event.prior === true || gap)
  }

  /** Queues a request for the next publish: stored only (`history`), or stored and relayed live. */
  #enqueue(request: Relayed, history: boolean): void {
    if (history) this.#history.push(request)
    else this.#batch.push(request)
    if (this.#history.length + this.#batch.length === 1) queueMicrotask(() => this.#flush())
  }

  /**
   * A batch the store gave up on: the targets whose clients delivered it fetch it again with a
   * fresh client (`store-lost`), holding new viewers meanwhile, whose replays would lack it.
   * What an earlier client delivered, the fresh client that replaced it may have asked for
   * already (`asksFor`: every channel it did not resume by position, and what followed its
   * positions); only the routing of those is kept. A `global` event is fetched again by one
   * open upstream, its own target's if that is open (every target's upstream receives `global`).
   */
  #lose(batch: readonly Relayed[], live: boolean): void {
    const refill = new Set<Target>()
    for (const request of batch) {
      const source = this.#sources.get(request)
      if (source === undefined) continue
      const { channel, event } = request
      let { target } = source
      if (channel === GlobalChannel && !open(target)) target = [...this.#targets.values()].find(open) ?? target
      // The origin's `m` as received: the store stamps its own position on a copy.
      const { eid, ts, pos } = event.m
      if (eid !== undefined) rememberLost(channel === GlobalChannel ? this.#lostGlobal : target.lost, eid, live)
      const lost = { channel, ts, pos }
      const asked = target === source.target && source.generation !== target.generation && target.client !== undefined && asksFor(target.resumedFrom, lost)
      if (!asked) {
        target.lostMarks.push(lost)
        refill.add(target)
      }
    }
    for (const target of refill) this.#dispatch(target, { type: 'store-lost' })
  }

  #flush(): void {
    const history = this.#history
    this.#history = []
    if (history.length > 0) {
      this.#publishing = this.#publishing.then(() => this.#publish(history, false))
    }
    const batch = this.#batch
    this.#batch = []
    // An upstream that fell behind sends frames of thousands of events; published at once,
    // every viewer's queue would hold all of them before any is written. In chunks, with a
    // turn between them, the writers flush as the events come.
    for (let start = 0; start < batch.length; start += PublishChunk) {
      const chunk = batch.slice(start, start + PublishChunk)
      const yieldFirst = start > 0
      this.#publishing = this.#publishing.then(async () => {
        if (yieldFirst) await new Promise<void>((resolve) => this.#context.timers.soon(resolve))
        await this.#publish(chunk)
      })
    }
  }

  /**
   * Stores (and, `live`, fans out) one batch. The upstream client's mark has already moved past
   * it, so a failed store is retried ({@link PublishRetry}) rather than dropped: the same eids
   * again, which the store dedupes. Later batches wait behind it (`#publishing`), in order.
   */
  async #publish(batch: Relayed[], live = true): Promise<void> {
    const { logger } = this.#context
    let failures = 0
    let waitedMs = 0
    while (batch.length > 0) {
      try {
        await this.#context.publish(batch, { checkContext: false, checkTimestamp: false, live })
        if (failures > 0) logger.info(`stored ${batch.length} upstream events after ${failures} failed attempts`)
        return
      } catch (error) {
        // One event this server cannot store (nested too deep, an eid too long) must not take
        // the rest of its batch with it.
        if (error instanceof PublishError && error.index !== undefined) {
          logger.error(`upstream event dropped, the relay cannot store it: ${error.message}`)
          batch.splice(error.index, 1)
          continue
        }
        // A refusal without an index is the same on every attempt.
        if (error instanceof PublishError) {
          logger.error(`publishing upstream events failed (${batch.length} lost): ${describe(error)}`)
          return
        }
        failures++
        const n = batch.length
        if (this.#closed) {
          logger.error(`storing ${n} upstream events failed as the relay closes, ${n} lost: ${describe(error)}`)
          return
        }
        const ms = publishRetryDelay(failures, waitedMs, this.#config.storeRetry)
        if (ms === undefined) {
          logger.error(`storing ${n} upstream events failed ${failures} times in ${Math.round(waitedMs / 1000)} s, giving up: ${n} lost, to be fetched again from the upstream: ${describe(error)}`)
          this.#lose(batch, live)
          return
        }
        logger.error(`storing ${n} upstream events failed (attempt ${failures}), retrying in ${ms} ms: ${describe(error)}`)
        // `close` ends the wait early: one last attempt, then no more.
        await this.#pause(ms)
        waitedMs += ms
      }
    }
  }

  /** Waits `ms` on the relay's timers, or until `close`. */
  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#context.timers.after(ms, () => this.#wake?.())
      this.#wake = () => {
        this.#wake = undefined
        timer.cancel()
        resolve()
      }
    })
  }
}

/**
 * Why an upstream event must not be relayed, or `undefined`: a channel other than the target's
 * or `global` (relabelling it as the target's would show viewers another identity's events),
 * or a size over {@link UpstreamLimits}.
 */
export function upstreamEventProblem(target: { readonly channel: string }, chan: string | undefined, event: unknown): string | undefined {
  if (chan !== undefined && chan !== target.channel && chan !== GlobalChannel) {
    return `it came on channel ${JSON.stringify(chan.slice(0, 80))}, not ${target.channel} or ${GlobalChannel}`
  }
  const size = JSON.stringify(event).length
  if (size > UpstreamLimits.maxEventBytes) return `${size} bytes of JSON, over the relay's limit of ${UpstreamLimits.maxEventBytes}`
  return undefined
}

/**
 * How far before its opening an upstream's events count as news: the opening is this relay's
 * clock, the events' `m.ts` the origin's, and this much skew between them costs nothing. (An
 * origin whose clock runs further behind could make events published just after an opening
 * look older, stored but not relayed live; one ahead makes a viewer get a little of what came
 * just before it.)
 */
const OpeningSkewMs = 1_000

/**
 * Where the news of the upstream's current subscription starts (an `m.ts`, Unix seconds): its
 * opening, less {@link OpeningSkewMs}. The first opening resumes from it; every one relays live
 * only what is newer (see `#received`).
 */
function liveFrom(target: { readonly openedAt: number }): number {
  return (target.openedAt - OpeningSkewMs) / 1000
}

/**
 * The store for a target's upstream client (core's `persist`): the target's own record, in
 * memory, read at each subscription and replaced by each of core's writes, so that the next
 * subscription resumes from the newest event the last one delivered.
 */
function keptRecord(target: { record: string | undefined }): PersistStore {
  return {
    getItem: () => target.record,
    setItem: (_key, value) => {
      target.record = value
    },
  }
}

/** Whether a target's upstream connection exists (the machine's rule). */
const open = (target: { readonly state: TargetState }): boolean => upstreamOpen(target.state.upstream)

/** Whether a target can serve viewers now (see {@link UpstreamReport}`.ready`). */
function servable(target: Target): boolean {
  const { upstream } = target.state
  if (upstream === 'failed') return false
  return upstream !== 'connecting' || target.liveSinceOpened
}

function failedRefusal(detail: string): ViewerRefusal {
  const { reason } = RelayCloseInfo[RelayCloseCode.UpstreamFailed]
  return { code: RelayControlCode.UpstreamFailed, detail, closeCode: RelayCloseCode.UpstreamFailed, reason }
}

function audience(target: Target, to: Audience, joined: Viewer | undefined): Viewer[] {
  if (to === 'joined') return joined === undefined ? [] : [joined]
  if (to === 'all') return [...target.viewers]
  return [...target.held, ...target.joining]
}
