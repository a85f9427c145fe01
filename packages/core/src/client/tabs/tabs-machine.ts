import type { ControlPayload, ReceivedEvent } from '../../codec/index.js'
import type { Diagnostic } from '../../operators/diagnostic.js'
import { newer, readyMark, unseen, type Watermark } from '../connection/watermark.js'
import { isItem, isPostedEvent, received } from './tab-streams.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import type { ConnectionStatus, GapOutcome, TabRole } from '../connection/status.js'
import type { IdentifyBudget } from '../policies/identify-budget.js'

// The tabs' protocol as a pure state machine, as machine.ts is the connection's: one tab leads
// (it was granted the Web Lock named after the connection, and holds this tab's own client),
// the others follow (they wait for the lock, and receive what the leader's client emits over a
// BroadcastChannel of the same name). `tabStep(state, input)` decides everything (who leads,
// what is posted, what this tab's streams emit, when to count the tabs) and performs nothing;
// tabs.ts performs the effects. Replies to asynchronous requests (the digest, the lock, the
// count) carry the session they were made in: a reply from a session that has ended is ignored.

/** One emission of a client's streams, as the leader posts it. */
export type TabItem =
  | readonly ['status', ConnectionStatus]
  | readonly ['control', ControlPayload]
  | readonly ['event', ReceivedEvent]
  | readonly ['diagnostic', Diagnostic]
  | readonly ['frame', string]
  | readonly ['metrics', ConnectionMetrics]

/**
 * How many of the newest events a tab that leads (or a SharedWorker's hub, per target) keeps
 * for a tab that comes back from a reload: what it missed is filled from them.
 */
export const RecentEvents = 1_000

/**
 * A status shown again (a count that changed, a welcome): without the `gap` of the transition
 * it first came with, which says nothing of the tab it is shown to now.
 */
export function again({ gap: _gap, ...status }: ConnectionStatus): ConnectionStatus {
  return status
}

/**
 * How far back the events a holder kept (a leading tab, a hub's target) reach unbroken, for a
 * reload's fill (`fillOutcome` in tabs-machine.ts). Plain data, moved by `covering`, `trimmed`
 * and `hole` there.
 */
export interface Coverage {
  /** The index of the kept events from which they are one unbroken run (a hole, or a gap the connection could not fill, before it). */
  readonly start: number
  /** The newest `m.ts` among the events let go of (trimmed): a mark older than it cannot be filled. */
  readonly letGo: number
  /**
   * The `ts` of the first `ready` of the unbroken run: every event stamped a second after it
   * (the server's clock is in whole seconds, floored) reached the holder, and a mark made at it
   * (a tab that had delivered nothing since) asks for nothing before it.
   */
  readonly first: number | undefined
  /** The `ts` of the last `ready`: where the run an unknown gap starts begins. */
  readonly last: number | undefined
  /** The `since` of the last status that said its gap was unknown: its repeats change nothing. */
  readonly unknownAt: number | undefined
  /** The mark the holder's own connection resumed from (a takeover's, a reload's), until its gap is told. */
  readonly resumed: Watermark | undefined
  /** That mark, once the connection said its gap was filled: every event after it reached the holder. */
  readonly from: Watermark | undefined
}

/** A holder that has kept nothing yet. */
export const NoCoverage: Coverage = Object.freeze({ start: 0, letGo: -Infinity, first: undefined, last: undefined, unknownAt: undefined, resumed: undefined, from: undefined })

/** The coverage of a holder whose own connection opens now, resuming after `mark` (if any). */
export const resuming = (coverage: Coverage, mark: Watermark | undefined): Coverage => ({ ...coverage, resumed: mark })

/**
 * The coverage after the holder passed on `item`, with `kept` events kept by then: a `ready`
 * starts it (if none has), and a status saying the connection's gap is `unknown` breaks it:
 * what the holder kept before may have a hole after it, so only the new run counts.
 */
export function covering(coverage: Coverage, item: TabItem, kept: number): Coverage {
  if (item[0] === 'control') {
    if (item[1].code !== 'ready') return coverage
    const ts = item[1].ts
    // A ready that does not say when: no run can begin at it.
    if (typeof ts !== 'number' || !Number.isFinite(ts)) return { ...coverage, last: undefined }
    return { ...coverage, last: ts, first: coverage.first ?? ts }
  }
  if (item[0] !== 'status' || item[1].gap === undefined) return coverage
  // The resume reached back to its mark: the run covers it (a status shown again carries no gap).
  if (item[1].gap === 'filled') return coverage.resumed === undefined ? coverage : { ...coverage, from: coverage.from ?? coverage.resumed, resumed: undefined }
  if (item[1].since === coverage.unknownAt) return coverage
  return { ...coverage, start: kept, first: coverage.last, unknownAt: item[1].since, resumed: undefined, from: undefined }
}

/** The coverage after the holder let the oldest of its kept events go (`dropped`). */
export function trimmed(coverage: Coverage, dropped: readonly ReceivedEvent[]): Coverage {
  let letGo = coverage.letGo
  for (const event of dropped) {
    const ts = event.m.ts
    if (typeof ts === 'number' && ts > letGo) letGo = ts
  }
  return { ...coverage, start: Math.max(0, coverage.start - dropped.length), letGo }
}

/** The coverage of a holder that received nothing for a while (a tab between sessions), `kept` events kept. */
export const hole = (coverage: Coverage, kept: number): Coverage => ({ ...coverage, start: kept, first: undefined, last: undefined, resumed: undefined, from: undefined })

/**
 * Whether a reload's fill from the kept `events` is whole for a tab whose mark is `from`, as a
 * reconnect's {@link ConnectionStatus.gap} says: `filled` when nothing after `from` was let go
 * and either every event stamped after `from` reached the holder (`from` a second past the
 * run's first `ready`, or made at that `ready`) or the unbroken run holds an event stamped at
 * or before `from`; else `unknown`: what the tab missed before the holder's run may be lost to
 * it. (A producer's clock far off can still fool it.)
 */
export function fillOutcome(from: Watermark, events: readonly ReceivedEvent[], coverage: Coverage): GapOutcome {
  // At the ts of an event let go too: it may be one of a burst the mark does not remember.
  if (from.ts <= coverage.letGo) return 'unknown'
  const first = coverage.first
  if (first !== undefined && (from.ts >= first + 1 || (from.eid === '' && from.ts === first))) return 'filled'
  const resumed = coverage.from
  if (resumed !== undefined && (from.ts > resumed.ts || (from.ts === resumed.ts && from.eid === resumed.eid))) return 'filled'
  for (let i = coverage.start; i < events.length; i++) {
    const event = events[i] as ReceivedEvent
    if (typeof event.m.ts === 'number' && !unseen(event, from)) return 'filled'
  }
  return 'unknown'
}

/** A reload's fill: the kept `events` a tab whose mark is `from` has not seen, marked as a gap filled. */
export const fillAfter = (events: readonly ReceivedEvent[], from: Watermark): ReceivedEvent[] =>
  events.filter((event) => unseen(event, from)).map((event) => ({ ...event, resumed: true }))

/** The messages between tabs; `tab` and `to` are tab ids. */
export type TabMessage =
  /**
   * `budget`: what the leader's connection has spent of the identify ratelimit, for a takeover
   * to know; its times in the leader's clock, which read `at` (ms) when it posted.
   */
  | { readonly type: 'out'; readonly items: readonly TabItem[]; readonly budget?: IdentifyBudget; readonly at?: number }
  | { readonly type: 'lead' }
  /**
   * `at`: the leader's clock when it welcomed (ms), by which the follower reads `mark`'s `clock`
   * and `budget`'s times in its own. `metrics`: the leader's current counts (a client publishes
   * them only after a frame).
   */
  | { readonly type: 'welcome'; readonly to: string; readonly status: ConnectionStatus; readonly mark?: Watermark; readonly history?: readonly ReceivedEvent[]; readonly budget?: IdentifyBudget; readonly at?: number; readonly metrics?: ConnectionMetrics }
  /** `from`: the newest event the tab delivered before (a reload's mark), for the leader to fill what it missed since. */
  | { readonly type: 'hello'; readonly tab: string; readonly from?: Watermark }
  | { readonly type: 'bye'; readonly tab: string }
  | { readonly type: 'reconnect' }

/**
 * Where the tab is: `idle` (no subscriber, or closed), `keying` (digesting the connection's
 * identity into the channel's name), `waiting` (a follower: waiting for the lock), `leading`
 * (holds the lock and the connection), `alone` (leads without a channel: the identity could
 * not be read or digested).
 */
export type TabPhase = 'idle' | 'keying' | 'waiting' | 'leading' | 'alone'

/** Everything a tab knows of the share, in one immutable value. */
export interface TabState {
  /** This tab's id, random. */
  readonly me: string
  readonly phase: TabPhase
  /** Counts joinings: replies carry the one they were asked in. */
  readonly session: number
  /** The channel's and lock's name, once keyed. */
  readonly name: string | undefined
  readonly subscribed: boolean
  /** `close()` was called and no `reconnect()` since. */
  readonly stopped: boolean
  /** This tab knows its part: the lock was granted, or the leader welcomed it. */
  readonly known: boolean
  /** Tabs sharing the connection (the leader's count, for a follower). */
  readonly count: number
  /** Tabs that said hello and not goodbye since the last count (a lock request may lag its hello). */
  readonly greeted: readonly string[]
  /**
   * A follower said hello since this tab began to lead: from then on it posts, whatever the
   * count says (a count taken while a follower reloads misses it for a moment; an event not
   * posted then would be lost to that follower).
   */
  readonly served: boolean
  /** The last status, without this tab's view of the tabs: what a change of role or count re-emits. */
  readonly current: ConnectionStatus
  /**
   * The newest event this tab delivered, of what counts (a replay's only once it has ended), for
   * a takeover to resume from.
   */
  readonly mark: Watermark | undefined
  /** The mark a replay under way gives once it has ended (`received` in tab-streams.ts). */
  readonly replayMark: Watermark | undefined
  /**
   * Between this tab's hello and its welcome: the eids of the events the leader posted it
   * meanwhile (at most `RecentEvents`). The welcome's history holds them too, further
   * back than a dedupe smaller than the history remembers: it skips them. Absent when no
   * welcome is awaited.
   */
  readonly early?: readonly string[] | undefined
}

/** What happens to a tab. */
export type TabInput =
  | { readonly type: 'subscribed'; readonly at: number }
  | { readonly type: 'unsubscribed'; readonly at: number }
  | { readonly type: 'close'; readonly at: number }
  | { readonly type: 'reconnect'; readonly at: number }
  /**
   * The identity digested into a name; `undefined` when it could not be read or digested.
   * `from`: the mark this tab kept under that name before a reload (read once per page).
   */
  | { readonly type: 'keyed'; readonly at: number; readonly session: number; readonly name: string | undefined; readonly from?: Watermark }
  | { readonly type: 'granted'; readonly at: number; readonly session: number }
  /** The lock manager refused this session's request (not an abort: an opaque origin's `SecurityError`). */
  | { readonly type: 'refused'; readonly at: number; readonly session: number }
  /** Anything received on the channel, unchecked. */
  | { readonly type: 'message'; readonly at: number; readonly session: number; readonly data: unknown }
  /** This tab's own client emitted (while it leads). */
  | { readonly type: 'inner'; readonly at: number; readonly item: TabItem }
  /** This tab's `event$` delivered an event (after its own dedupe). */
  | { readonly type: 'delivered'; readonly at: number; readonly event: ReceivedEvent }
  /** This tab's `control$` passed on a replay's end (`endsReplay`), after the replay's events. */
  | { readonly type: 'replay-done'; readonly at: number }
  /** The lock manager's queue: how many tabs wait for the lock (every follower does). */
  | { readonly type: 'counted'; readonly at: number; readonly session: number; readonly waiting: number }
  | { readonly type: 'recount'; readonly at: number }

/** What the interpreter must do, in order. */
export type TabEffect =
  /** Read the connection's identity, digest it, and answer `keyed`. */
  | { readonly type: 'key'; readonly session: number }
  | { readonly type: 'open-channel'; readonly session: number; readonly name: string }
  /** Ask for the lock; answer `granted` when it is, and hold it until `leave`. */
  | { readonly type: 'request-lock'; readonly session: number; readonly name: string }
  | { readonly type: 'post'; readonly message: TabMessage }
  /** Post this item to the followers, batched with the others of this task. */
  | { readonly type: 'broadcast'; readonly item: TabItem }
  /**
   * Welcome a follower. The interpreter adds the history it kept: what followed the follower's
   * `from` (resumed), else, with `sendAll`, all of it.
   */
  | { readonly type: 'welcome'; readonly to: string; readonly status: ConnectionStatus; readonly mark: Watermark | undefined; readonly from?: Watermark }
  /** Open this tab's own client, resuming after `from`, and feed its emissions back as `inner`. */
  | { readonly type: 'open-inner'; readonly from: Watermark | undefined }
  | { readonly type: 'inner-reconnect' }
  /** Count the tabs waiting for the lock `name` (this session's: a leader's); answer `counted`. */
  | { readonly type: 'query-locks'; readonly session: number; readonly name: string }
  | { readonly type: 'arm-recount' }
  /** Give up the lock (or the wait for it), this tab's own client, the timer and the channel. */
  | { readonly type: 'leave' }
  /** Emit on this tab's streams; an event goes through the tab's dedupe, and comes back as `delivered`. */
  | { readonly type: 'emit'; readonly item: TabItem }
  /**
   * The welcome's history was emitted: what this tab keeps from here on is its own run, not
   * one with the leader's history (which may hold a hole this tab cannot see).
   */
  | { readonly type: 'welcomed' }

/** What one step returns. */
export interface TabStep {
  readonly state: TabState
  readonly effects: readonly TabEffect[]
}

/** The options a tab decides by. */
export interface TabConfig {
  /** Track the mark (the connection resumes gaps). */
  readonly resume: boolean
}

/** How often a leader counts the tabs that share its connection (a crashed tab says no goodbye). */
export const TabsRecountMs = 5_000

/** The status texts of sharing. */
const Say = Object.freeze({
  looking: 'Looking for a tab that holds this connection already.',
  takeover: 'The tab that held the connection left: this tab takes it over and fills the gap.',
  left: 'No subscribers left.',
  closed: 'Closed by the user.',
})

/** A tab before anything happened. */
export function initialTabState(me: string, at: number): TabState {
  return {
    me,
    phase: 'idle',
    session: 0,
    name: undefined,
    subscribed: false,
    stopped: false,
    known: false,
    count: 1,
    greeted: [],
    served: false,
    current: { state: 'closed', since: at, detail: 'Not opened yet: the connection opens on the first subscription.' },
    mark: undefined,
    replayMark: undefined,
  }
}

const roleOf = (phase: TabPhase): TabRole | undefined =>
  phase === 'leading' || phase === 'alone' ? 'leader' : phase === 'idle' ? undefined : 'follower'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** Whether `list` is a list of texts. */
const texts = (list: unknown): boolean => Array.isArray(list) && list.every((text) => typeof text === 'string')

/**
 * A mark as a tab posts it (another version's, or a broken one, must not reach a leader's or
 * hub's filter): a `ts` that is a number below `Infinity` (`-Infinity` is a mark before every
 * event; NaN or `+Infinity` would freeze it), text eids, and a finite `clock` if any (a BigInt
 * one threw in `rebased`), and text `pos` (other eids or positions threw in the hub's record).
 */
export const isMark = (value: unknown): boolean =>
  isObject(value) &&
  typeof value['ts'] === 'number' &&
  value['ts'] < Infinity &&
  typeof value['eid'] === 'string' &&
  (value['tied'] === undefined || texts(value['tied'])) &&
  (value['pos'] === undefined || (isObject(value['pos']) && texts(Object.values(value['pos'])))) &&
  Number.isFinite(value['clock'] ?? 0)

/** The message, if `data` is one of this version's; anything else on the channel is ignored. */
export function tabMessage(data: unknown): TabMessage | undefined {
  if (!isObject(data)) return undefined
  switch (data['type']) {
    case 'out':
      return Array.isArray(data['items']) && data['items'].every(isItem) ? (data as TabMessage) : undefined
    case 'welcome':
      return typeof data['to'] === 'string' &&
        isObject(data['status']) &&
        (data['mark'] === undefined || isMark(data['mark'])) &&
        (data['metrics'] === undefined || isObject(data['metrics'])) &&
        (data['history'] === undefined || (Array.isArray(data['history']) && data['history'].every(isPostedEvent)))
        ? (data as TabMessage)
        : undefined
    case 'hello':
      return typeof data['tab'] === 'string' && (data['from'] === undefined || isMark(data['from'])) ? (data as TabMessage) : undefined
    case 'bye':
      return typeof data['tab'] === 'string' ? (data as TabMessage) : undefined
    case 'lead':
    case 'reconnect':
      return data as TabMessage
    default:
      return undefined
  }
}

/**
 * `mark` as posted by a tab whose clock read `there` (ms), in the clock of this one, which reads
 * `here`: its `clock` is the server's minus the poster's, and this tab's may differ by hours; a
 * ceiling read in the wrong one holds every later event below the mark (a takeover resumes
 * from it and repeats them). As posted when `there` is not a time (a tab of another version).
 */
const rebased = (mark: Watermark | undefined, there: unknown, here: number): Watermark | undefined =>
  mark?.clock === undefined || !Number.isFinite(there) ? mark : { ...mark, clock: mark.clock + ((there as number) - here) / 1000 }

const NoEffects: readonly TabEffect[] = Object.freeze([])

/** Posting starts with the first follower: a tab alone clones nothing. */
const posting = (state: TabState): boolean => state.phase === 'leading' && (state.served || state.count > 1)

/** The next state of a tab and what to do. Pure: no channel, lock, client or clock. */
export function tabStep(state: TabState, input: TabInput, config: TabConfig): TabStep {
  // The hot path, once or twice per event: decided here, without the closures decide() makes.
  if (input.type === 'delivered') {
    const moved = config.resume ? received(state.mark, state.replayMark, input.event, input.at) : undefined
    return moved === undefined ? { state, effects: NoEffects } : { state: { ...state, mark: moved.mark, replayMark: moved.replay }, effects: NoEffects }
  }
  if (input.type === 'inner' && input.item[0] === 'event' && (state.phase === 'leading' || state.phase === 'alone')) {
    const emitted: TabEffect = { type: 'emit', item: input.item }
    return { state, effects: posting(state) ? [{ type: 'broadcast', item: input.item }, emitted] : [emitted] }
  }
  return decide(state, input, config)
}

/** Every other input. */
function decide(state: TabState, input: TabInput, config: TabConfig): TabStep {
  let next = state
  const effects: TabEffect[] = []
  const set = (patch: Partial<TabState>): void => {
    next = { ...next, ...patch }
  }
  const emit = (effect: TabEffect): void => {
    effects.push(effect)
  }

  /** The status as this tab shows it: with its role and the count, once it knows them. */
  const shown = (status: ConnectionStatus): ConnectionStatus => {
    const role = roleOf(next.phase)
    if (role === undefined || !next.known) return status
    return { ...status, tabs: { role, count: role === 'leader' ? next.count : (status.tabs?.count ?? next.count) } }
  }
  const show = (status: ConnectionStatus): ConnectionStatus => {
    set({ current: status })
    const view = shown(status)
    emit({ type: 'emit', item: ['status', view] })
    return view
  }
  const broadcast = (item: TabItem): void => {
    if (posting(next)) emit({ type: 'broadcast', item })
  }

  // This session's name in hellos, byes and welcomes: a welcome to a hello of this tab's last
  // session (subscribed again before the leader answered it) is not this one's.
  const self = (): string => `${next.me}:${next.session}`

  const join = (at: number): void => {
    set({ phase: 'keying', session: next.session + 1, name: undefined, known: false, count: 1, greeted: [] })
    show({ state: 'connecting', since: at, detail: Say.looking })
    emit({ type: 'key', session: next.session })
  }

  const lead = (at: number): void => {
    const following = next.phase === 'waiting' && next.known
    // A takeover posts from the start: the other followers' hellos may arrive after the first
    // events of the gap, which they would then miss.
    set({ phase: next.name === undefined ? 'alone' : 'leading', known: true, greeted: [], served: following })
    if (following) show({ state: 'reconnecting', since: at, attempt: 0, delayMs: 0, nextRetryAt: at, detail: Say.takeover })
    emit({ type: 'open-inner', from: next.mark })
    if (next.phase === 'leading') {
      emit({ type: 'post', message: { type: 'lead' } })
      queryLocks()
      emit({ type: 'arm-recount' })
    }
  }

  // Only a leader counts, and a leader was keyed with a name (`lead` leads `alone` without one).
  const queryLocks = (): void => emit({ type: 'query-locks', session: next.session, name: next.name as string })

  const leave = (detail: string): void => {
    if (next.phase === 'idle') return
    if (next.phase === 'waiting') emit({ type: 'post', message: { type: 'bye', tab: self() } })
    emit({ type: 'leave' })
    set({ phase: 'idle', known: false, greeted: [] })
    show({ state: 'closed', since: input.at, detail })
  }

  // A tab back from a reload says where it was: the leader fills what it missed since.
  const hello = (): void => {
    set({ early: [] })
    emit({ type: 'post', message: next.mark === undefined ? { type: 'hello', tab: self() } : { type: 'hello', tab: self(), from: next.mark } })
  }

  const learn = (mark: Watermark | undefined): void => {
    const later = newer(next.mark, mark)
    if (later !== next.mark) set({ mark: later })
  }

  // The first `ready` a tab sees starts its mark, whether it leads or follows: a follower
  // welcomed before its leader's `ready` is told no mark, and would otherwise take over with
  // none (no resume: what reached the leader in its last task, and the handover's gap, lost).
  const markAtReady = (item: TabItem): void => {
    if (item[0] === 'control' && item[1].code === 'ready' && next.mark === undefined && config.resume) set({ mark: readyMark(item[1], input.at) })
  }

  const follow = (message: TabMessage): void => {
    switch (message.type) {
      case 'out':
        for (const item of message.items) {
          if (item[0] === 'status') show(item[1])
          else {
            markAtReady(item)
            const early = next.early
            if (item[0] === 'event' && early !== undefined && early.length < RecentEvents) set({ early: early.concat(item[1].m.eid ?? []) })
            emit({ type: 'emit', item })
          }
        }
        return
      case 'lead':
        hello()
        return
      case 'welcome':
        if (message.to !== self()) return
        learn(rebased(message.mark, message.at, input.at))
        for (const event of message.history ?? []) if (!next.early?.includes(event.m.eid ?? '')) emit({ type: 'emit', item: ['event', event] })
        emit({ type: 'welcomed' })
        set({ known: true, early: undefined })
        show(message.status)
        if (message.metrics !== undefined) emit({ type: 'emit', item: ['metrics', message.metrics] })
        return
    }
  }

  const serve = (message: TabMessage): void => {
    switch (message.type) {
      case 'hello':
        set({ greeted: [...next.greeted.filter((tab) => tab !== message.tab), message.tab], served: true })
        emit({ type: 'welcome', to: message.tab, status: shown(again(next.current)), mark: next.mark, ...(message.from === undefined ? {} : { from: message.from }) })
        queryLocks()
        return
      case 'bye':
        set({ greeted: next.greeted.filter((tab) => tab !== message.tab) })
        queryLocks()
        return
      case 'reconnect':
        emit({ type: 'inner-reconnect' })
        return
    }
  }

  switch (input.type) {
    case 'subscribed':
      set({ subscribed: true })
      if (!next.stopped) join(input.at)
      break
    case 'unsubscribed':
      // As unshared: the next subscriber starts afresh.
      set({ subscribed: false, mark: undefined, replayMark: undefined })
      leave(Say.left)
      break
    case 'close':
      set({ stopped: true })
      leave(Say.closed)
      break
    case 'reconnect':
      if (next.stopped) {
        set({ stopped: false })
        if (next.subscribed) join(input.at)
      } else if (next.phase === 'leading' || next.phase === 'alone') emit({ type: 'inner-reconnect' })
      else if (next.phase === 'waiting') emit({ type: 'post', message: { type: 'reconnect' } })
      break
    case 'keyed':
      if (input.session !== next.session || next.phase !== 'keying') break
      if (input.name === undefined) {
        lead(input.at)
        break
      }
      learn(input.from)
      set({ phase: 'waiting', name: input.name })
      emit({ type: 'open-channel', session: next.session, name: input.name })
      emit({ type: 'request-lock', session: next.session, name: input.name })
      hello()
      break
    case 'granted':
      if (input.session === next.session && next.phase === 'waiting') lead(input.at)
      break
    case 'refused':
      // No tab can lead by a lock the browser refuses: this one leads alone, unshared, rather than wait forever.
      if (input.session === next.session && next.phase === 'waiting') {
        set({ name: undefined, known: false })
        lead(input.at)
      }
      break
    case 'message': {
      if (input.session !== next.session) break
      const message = tabMessage(input.data)
      if (message === undefined) break
      if (next.phase === 'waiting') follow(message)
      else if (next.phase === 'leading') serve(message)
      break
    }
    case 'inner': {
      if (next.phase !== 'leading' && next.phase !== 'alone') break
      const item = input.item
      if (item[0] === 'status') {
        const view = show(item[1])
        broadcast(['status', view])
        break
      }
      markAtReady(item)
      broadcast(item)
      emit({ type: 'emit', item })
      break
    }
    case 'counted': {
      if (input.session !== next.session || next.phase !== 'leading') break
      // `|| 0`: a count that is no number (NaN) counts none, never a NaN tab count.
      const count = 1 + Math.max(input.waiting || 0, next.greeted.length)
      if (count === next.count) break
      set({ count })
      broadcast(['status', show(again(next.current))])
      break
    }
    case 'replay-done':
      // The replay is whole: its mark is the tab's (what `received` otherwise waits for a live event to do).
      if (next.replayMark !== undefined) set({ mark: next.replayMark, replayMark: undefined })
      break
    case 'recount':
      if (next.phase !== 'leading') break
      set({ greeted: [] })
      queryLocks()
      emit({ type: 'arm-recount' })
      break
  }
  return { state: next, effects }
}
