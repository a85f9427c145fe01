import { type SchedulerLike, Subject, type Subscription } from 'rxjs'
import type { ReceivedEvent } from '../../codec/index.js'
import { dedupeEvents } from '../../operators/index.js'
import type { FatesClient } from '../fates-client.js'
import type { MachineInput, Watermark } from '../connection/machine.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import { identityText, NameVersion, sha256 } from '../digest.js'
import { noted } from '../noted.js'
import type { ResolvedOptions } from '../options.js'
import type { MachineStep } from '../persist/persist-machine.js'
import type { Layer } from '../persist/persist.js'
import type { IdentifyBudget } from '../policies/identify-budget.js'
import { serially } from '../serially.js'
import { emitItem, endsReplay, feedItems, markKeeper, tabStreams } from './tab-streams.js'
import { type TabChannel, type TabsEnvironment, tabsEnvironment, type WorkerSharing } from './tab-support.js'
import { covering, fillAfter, fillOutcome, hole, initialTabState, NoCoverage, RecentEvents, resuming, trimmed, type TabEffect, type TabInput, type TabItem, type TabMessage, TabsRecountMs, tabStep } from './tabs-machine.js'

// Tabs of one origin share one connection. The decisions are tabs-machine.ts's; this is its
// interpreter, the effectful edge: the Web Lock, the BroadcastChannel, the digest, this tab's
// own client and the timer. The browser releases a lock when its tab closes or crashes and
// grants it to the next tab waiting: that is the takeover, with no heartbeat to tune.
//
// What crosses the channel is what the leader's streams emitted: redacted already (frames,
// details, diagnostics), so the token never does. The channel's name is a SHA-256 digest of
// the connection's identity, token included: tabs with another token never meet.

const noMetrics: ConnectionMetrics = { frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }

/**
 * This tab's own client: `from`, resume after it on the first connection (a tab taking over);
 * `layer`, steps its machine through it where `persist` does not (connect.ts prefers persist's).
 */
export type OpenOwn = (from: Watermark | undefined, layer?: Layer) => FatesClient

/**
 * Carries the identify budget from each of this tab's own clients to the next. A session (first
 * subscription to last leaving) opens a fresh client, which would start with no budget: a lone
 * tab subscribed again and again within the ratelimit's window would identify past the limit and
 * be refused (4012). `persist` carries it in its record; without it, this does, in memory, in
 * `kept` (where a follower also keeps the budget its leader posts: a takeover knows what the
 * connection it takes over spent). Each new client takes the budget at its `subscribed`, the
 * first input it steps. `step`: the machine's, passed in (as to persist's chunk): imported
 * here, it cost 67 B gzip up front.
 */
export function keptBudget(step: MachineStep, kept: { budget: IdentifyBudget } = { budget: {} }): Layer {
  return () => (machine, input, config) => {
    // Stryker disable next-line ConditionalExpression: equivalent: after a client's first step its budget is the kept one (written back after every step), so putting it back changes nothing.
    const result = step(input.type === 'subscribed' ? { ...machine, budget: kept.budget } : machine, input as MachineInput, config)
    kept.budget = result.state.budget
    return result
  }
}

/** A budget as a leader posts it: its fields finite numbers (another version's, or a broken one, is ignored). */
const isBudget = (value: unknown): value is IdentifyBudget => typeof value === 'object' && value !== null && Object.values(value).every(Number.isFinite)

/**
 * A budget a leader posted when its clock read `at` (ms), on this tab's clock, which reads `here`:
 * its times (all but `remaining`) moved by the difference. A tab's clock may differ by hours, and
 * a cooldown read in the wrong one held a takeover back for as long, or let it identify into the
 * ban. As posted when `at` is not a time (a tab of another version).
 */
const budgetOnThisClock = (budget: IdentifyBudget, at: unknown, here: number): IdentifyBudget =>
  Number.isFinite(at) ? Object.fromEntries(Object.entries(budget).map(([field, value]) => [field, field === 'remaining' ? value : value + here - (at as number)])) : budget

/**
 * The client of {@link connect} with `shareAcrossTabs`: shared where the environment allows it,
 * else this tab's own, saying in every status's detail why it is not shared.
 */
export function shareAcrossTabs(
  option: true | TabsEnvironment | WorkerSharing,
  config: ResolvedOptions,
  open: OpenOwn,
  scheduler: SchedulerLike,
  random: () => number,
  step: MachineStep,
): FatesClient | Promise<FatesClient> {
  if (option !== true && 'worker' in option) {
    // Through a SharedWorker: the tab's side of the port is a chunk of its own, loaded by this
    // one (connect() then waits for both), so that what every app carries up front is unchanged.
    // Without a worker, this chunk's election is the fallback.
    const elect = (how: true | TabsEnvironment): FatesClient => shareAcrossTabs(how, config, open, scheduler, random, step) as FatesClient
    const own = (): FatesClient => open(undefined)
    return import('./port.js').then(
      ({ workerClient }) => workerClient(option, config, elect, own, scheduler),
      () => (option.fallback === false ? own() : elect(option.fallback ?? true)),
    )
  }
  const environment = tabsEnvironment(option)
  if (typeof environment !== 'string') return sharedClient(config, environment, open, scheduler, random, step)
  return noted(open(undefined), `Not shared across tabs: ${environment}.`)
}

/** What one session (a joining, from the first subscription to the last leaving) holds. */
interface TabSession {
  readonly session: number
  readonly abort: AbortController
  readonly subscriptions: Subscription[]
  channel?: TabChannel
  release?: () => void
  inner?: FatesClient
  timer?: Subscription
}

/**
 * A shared client: the same streams as {@link connect}'s, fed by this tab's own client while it
 * leads and by the leader's over the channel while it follows. `open(from, layer)` makes this
 * tab's own (unshared) client, resuming after `from`; `step` is the connection machine's.
 */
export function sharedClient(
  config: ResolvedOptions,
  environment: TabsEnvironment,
  open: OpenOwn,
  scheduler: SchedulerLike,
  random: () => number,
  step: MachineStep,
): FatesClient {
  const now = (): number => scheduler.now()
  const digest = environment.digest ?? sha256

  // One for every session's own client, so that each knows what the ones before it spent (and
  // what the leader's spent, while this tab follows: a takeover must not identify into a 4012).
  const ledger: { budget: IdentifyBudget } = { budget: {} }
  const budget = keptBudget(step, ledger)
  // Stryker disable next-line MethodExpression: equivalent: the id need only be unique; the `0.` that the slice drops changes nothing.
  let state = initialTabState(random().toString(36).slice(2) + now().toString(36), now())
  const streams = tabStreams(state.current, noMetrics)
  const { event$ } = streams

  // What this tab delivered, the newest: a tab back from a reload gets what followed its mark,
  // and with sendAll a tab joining later gets it all as its history.
  const keep = config.sendAll ? config.dedupeCapacity : RecentEvents
  let retained: ReceivedEvent[] = []
  // How far back `retained` reaches unbroken, for a reload's fill (tabs-machine.ts `Coverage`).
  let coverage = NoCoverage
  // Each tab deduplicates on its own: a takeover's replay may repeat what the leader sent.
  const offered = new Subject<ReceivedEvent>()
  offered.pipe(dedupeEvents({ capacity: config.dedupeCapacity })).subscribe((event) => {
    retained.push(event)
    if (retained.length > 2 * keep) {
      coverage = trimmed(coverage, retained.slice(0, retained.length - keep))
      retained = retained.slice(-keep)
    }
    // Queued before what a subscriber does inside next() (its last unsubscribe resets the mark).
    dispatch({ type: 'delivered', at: now(), event })
    event$.next(event)
  })

  let held: TabSession | undefined
  // What the leader posts is batched per task: a frame of fifty events is one message.
  let batch: TabItem[] = []

  // The tab's mark, kept in its session under the target's name: read by the first keying of
  // the page (a reload's), written once per task when it moved.
  const kept = markKeeper(environment.session, () => state)
  let restored = false

  const { dispatch, later: enqueue } = serially<TabInput>((input) => {
    const before = state.mark
    const result = tabStep(state, input, config)
    state = result.state
    // Stryker disable next-line ConditionalExpression: equivalent: a mark that did not move is written again as it was.
    if (state.mark !== before) kept.save()
    for (const effect of result.effects) perform(effect)
  })
  /** A reply to an asynchronous request counts only while the session it was asked in lasts. */
  const current = (session: number): boolean => held?.session === session

  // A replay's end is told after its events: their `delivered` inputs wait in the queue before it.
  const emit = (item: TabItem): void => {
    emitItem(streams, item, (event) => offered.next(event))
    coverage = covering(coverage, item, retained.length)
    if (endsReplay(item)) dispatch({ type: 'replay-done', at: now() })
  }

  // Stryker disable next-line OptionalChaining: equivalent: the machine posts only while this tab holds a session that opened its channel (a hello, bye or reconnect while waiting, a lead or welcome while leading), so `held` and its channel are always there; the `?.` serves the type checker.
  const post = (message: TabMessage): void => held?.channel?.postMessage(message)

  /** Posts the batch of what this leader emitted in the current task, if any, on `channel`. */
  const flush = (channel: TabChannel | undefined): void => {
    const items = batch
    batch = []
    // Stryker disable next-line ConditionalExpression,EqualityOperator,OptionalChaining: equivalent: an empty batch posts a message that carries nothing; and a batch with items is only flushed on a channel (a leave flushes it first, a broadcast needs a channel).
    if (items.length > 0) channel?.postMessage({ type: 'out', items, budget: ledger.budget, at: now() } satisfies TabMessage)
  }

  const perform = (effect: TabEffect): void => {
    switch (effect.type) {
      case 'key': {
        const { session } = effect
        held = { session, abort: new AbortController(), subscriptions: [] }
        // Nothing reached this tab between its sessions: what it kept before is not one run with what follows.
        coverage = hole(coverage, retained.length)
        const keyed = (name: string | undefined): void => {
          let from: Watermark | undefined
          // (No `config.resume` test: without it no mark moves, and its name, which `resume` is part of, has none kept.)
          // Read by a current session only: one that ended before its digest came would drop it.
          // Stryker disable next-line ConditionalExpression,LogicalOperator: `name !== undefined` is equivalent: nothing is kept under an undefined name.
          if (!restored && name !== undefined && current(session)) {
            restored = true
            from = kept.read(name)
          }
          // Stryker disable next-line ConditionalExpression: equivalent: the machine reads an absent and an undefined `from` alike; the spelling is for exactOptionalPropertyTypes.
          dispatch(from === undefined ? { type: 'keyed', at: now(), session, name } : { type: 'keyed', at: now(), session, name, from })
        }
        let identity: string
        try {
          identity = identityText(config)
        } catch {
          // An option function that throws: this tab's own client reports it, unshared.
          enqueue({ type: 'keyed', at: now(), session, name: undefined })
          return
        }
        // The same name as persist's key (connectionName), from the text already read.
        digest(identity).then(
          (hex) => keyed(`fates-rx:${NameVersion}:${hex}`),
          () => keyed(undefined),
        )
        return
      }
      case 'open-channel': {
        const { session } = effect
        // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: the machine opens a channel only in the step of a current session's `keyed`, which it checks itself.
        if (!current(session) || held === undefined) return
        const channel = new environment.BroadcastChannel(effect.name)
        held.channel = channel
        channel.onmessage = (event) => {
          // Stryker disable next-line ConditionalExpression: equivalent: a session's channel is closed when it ends, and a closed channel hears nothing.
          if (!current(session)) return
          // What the leader's connection spent: this tab's next own client starts from it.
          const data = event.data as { budget?: unknown; at?: unknown } | null
          const posted = data?.budget
          if (state.phase === 'waiting' && isBudget(posted)) ledger.budget = budgetOnThisClock(posted, data?.at, now())
          dispatch({ type: 'message', at: now(), session, data: event.data })
        }
        return
      }
      case 'request-lock': {
        const { session } = effect
        const mine = held
        // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent: the machine asks for the lock only in a step of the current session.
        if (mine === undefined || !current(session)) return
        environment.locks
          .request(effect.name, { signal: mine.abort.signal }, () => {
            if (!current(session)) return Promise.resolve()
            const holding = new Promise<void>((resolve) => (mine.release = resolve))
            dispatch({ type: 'granted', at: now(), session })
            return holding
          })
          // Aborted: this tab left before it led. Else refused (an opaque origin): it leads alone.
          .catch(() => {
            if (!mine.abort.signal.aborted) dispatch({ type: 'refused', at: now(), session })
          })
        return
      }
      case 'post':
        return post(effect.message)
      case 'broadcast': {
        // Stryker disable next-line ConditionalExpression,OptionalChaining: equivalent: the machine broadcasts only while leading, with the channel its session opened.
        if (held?.channel === undefined) return
        // On the channel held when the task ends: a leave in between has flushed the batch
        // (and closed that channel, which a browser refuses to post on).
        // Stryker disable next-line ConditionalExpression: equivalent: a flush per item would find the batch taken by the first, and post nothing.
        if (batch.length === 0) queueMicrotask(() => flush(held?.channel))
        batch.push(effect.item)
        return
      }
      case 'welcome': {
        const from = effect.from
        // A tab back from a reload: what followed its mark, as a gap filled; else, with sendAll, all.
        const history = from !== undefined ? fillAfter(retained, from) : config.sendAll ? retained : undefined
        // Whether that fill is whole, as a reconnect's `gap` says (tabs-machine.ts `fillOutcome`):
        // else what the tab missed before this tab's unbroken run may be lost to it.
        const gap = from === undefined ? undefined : fillOutcome(from, retained, coverage)
        return post({
          type: 'welcome',
          to: effect.to,
          status: gap === undefined ? effect.status : { ...effect.status, gap },
          // Stryker disable next-line ConditionalExpression: equivalent: a follower reads an absent and an undefined `mark` alike; the spread keeps the message exact.
          ...(effect.mark === undefined ? {} : { mark: effect.mark }),
          // Stryker disable next-line ConditionalExpression: equivalent: a follower reads an absent and an undefined `history` alike.
          ...(history === undefined ? {} : { history }),
          budget: ledger.budget,
          at: now(),
          // What the leader's client counted so far: it publishes only after a frame, which a quiet connection may not get for long.
          metrics: streams.metrics$.value,
        })
      }
      case 'open-inner': {
        const mine = held
        // Stryker disable next-line ConditionalExpression: equivalent: the machine opens the inner client only while this tab holds a session.
        if (mine === undefined) return
        coverage = resuming(coverage, effect.from)
        const inner = open(effect.from, budget)
        mine.inner = inner
        mine.subscriptions.push(...feedItems(inner, (item) => dispatch({ type: 'inner', at: now(), item })))
        return
      }
      case 'inner-reconnect':
        // Stryker disable next-line OptionalChaining: equivalent: the machine asks for it only while leading (or alone), after the step that led performed open-inner, so `held` and its client are always there; the `?.` serves the type checker.
        return held?.inner?.reconnect()
      case 'query-locks': {
        const { session, name } = effect
        environment.locks.query().then(
          (snapshot) => {
            // Stryker disable next-line ConditionalExpression: equivalent: the machine ignores a count of a session that is not its current one.
            if (!current(session)) return
            const waiting = snapshot.pending?.filter((request) => request.name === name).length ?? 0
            dispatch({ type: 'counted', at: now(), session, waiting })
          },
          () => undefined,
        )
        return
      }
      case 'arm-recount': {
        const mine = held
        // Stryker disable next-line ConditionalExpression: equivalent: the machine arms the recount only while this tab holds a session.
        if (mine === undefined) return
        mine.timer?.unsubscribe()
        mine.timer = scheduler.schedule(() => {
          // Stryker disable next-line ConditionalExpression: equivalent: a leave unsubscribes the timer, so it never fires for a session that ended.
          if (held === mine) dispatch({ type: 'recount', at: now() })
        }, TabsRecountMs)
        return
      }
      case 'leave': {
        const mine = held
        held = undefined
        // Stryker disable next-line ConditionalExpression: equivalent: the machine leaves only a session it holds.
        if (mine === undefined) return
        // What it emitted in this task still reaches the followers: before the lock is let go
        // (a follower granted it leads, and takes no more from this tab) and the channel closes.
        flush(mine.channel)
        mine.abort.abort()
        mine.release?.()
        mine.timer?.unsubscribe()
        for (const subscription of mine.subscriptions) subscription.unsubscribe()
        mine.channel?.close()
        return
      }
      case 'emit':
        return emit(effect.item)
      case 'welcomed':
        coverage = hole(coverage, retained.length)
        return
    }
  }

  return streams.client(
    () => dispatch({ type: 'subscribed', at: now() }),
    () => dispatch({ type: 'unsubscribed', at: now() }),
    () => dispatch({ type: 'close', at: now() }),
    () => dispatch({ type: 'reconnect', at: now() }),
  )
}
