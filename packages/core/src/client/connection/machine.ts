import type { ControlPayload, ReceivedEvent } from '../../codec/codecs.js'
import { redactSecret } from '../../codec/redact.js'
import type { Decoded, Diagnostic } from '../../operators/diagnostic.js'
// Each table from its own file: through the index, every table would count as reached by the
// entry chunk, and a bundler's code splitting would then download up front the tables (event
// names) that only a lazily loaded chunk (the ctx check) reads.
import { closeMeaning } from '../../protocol/close.js'
import { closePolicy, MaxRefusedUpgrades, refusalAction, RefusalWhy, SlowRetry } from '../../protocol/close-policy.js'
import { ResumeCode } from '../../codec/position.js'
import { ControlCode } from '../../protocol/control.js'
import { Protocol } from '../../protocol/limits.js'
import { backoffDelay } from '../policies/backoff.js'
import {
  afterIdentify,
  afterRatelimited,
  afterReport,
  type IdentifyBudget,
  type IdentifyBudgetConfig,
  identifyWait,
} from '../policies/identify-budget.js'
import { identifyMessage, type ResolvedOptions } from '../options.js'
import { type CloseDetails, type ConnectionState, type ConnectionStatus, canTransition } from './status.js'
import { advance, advanceAll, readyMark, unseen, type Watermark } from './watermark.js'

// The connection as a pure state machine ("sans-I/O", as h11 does HTTP): `step(state, input)`
// returns the next state and the effects to perform. It owns every decision (when to connect,
// what to send, which timer to arm, what to emit) and performs none: no socket, no timer, no
// Subject, no clock; time and jitter arrive in the inputs. The interpreter in connect.ts runs
// the effects after each step, so user code only ever sees settled state.

/** The timers the machine arms, by name; at most one of each is armed at a time. */
export type TimerName = 'retry' | 'handshake' | 'liveness' | 'stable' | 'replay'

/** What happens to the machine. Every input carries the time it happened (`at`, ms). */
export type MachineInput =
  /**
   * The first subscriber came. `from`: the newest event this client's streams already delivered
   * elsewhere (a tab taking over a shared connection): the first connection then fills the gap
   * since it, as a reconnect does.
   */
  | { readonly type: 'subscribed'; readonly at: number; readonly from?: Watermark }
  | { readonly type: 'unsubscribed'; readonly at: number }
  | { readonly type: 'close'; readonly at: number }
  | { readonly type: 'reconnect'; readonly at: number }
  | { readonly type: 'online'; readonly at: number }
  | { readonly type: 'credentials'; readonly at: number; readonly url: string; readonly id: string; readonly token: string }
  | { readonly type: 'credentials-failed'; readonly at: number; readonly detail: string }
  | { readonly type: 'open-now'; readonly at: number }
  | { readonly type: 'opened'; readonly at: number; readonly socket: number }
  /**
   * A frame of that socket, received `at`: every segment of it decoded (`decodePayload`), in
   * order (none for a frame of separators only). The input connect() gives, one per frame,
   * split and decoded as it arrives: the frame's time is then the time it arrived. Its payloads
   * mean exactly what as many `decoded` inputs in a row would: the frame's plain live events
   * are delivered in one `deliver-live` effect and move the mark once, and any other payload is
   * decided as its own `decoded` input would be, in its place (a control payload may change the
   * phase mid-frame).
   */
  | { readonly type: 'frame'; readonly at: number; readonly socket: number; readonly payloads: readonly Decoded[] }
  /** One segment of a frame of that socket, decoded (`decodePayload`): a frame's payload on its own. */
  | { readonly type: 'decoded'; readonly at: number; readonly socket: number; readonly decoded: Decoded }
  | {
      readonly type: 'closed'
      readonly at: number
      readonly socket: number
      readonly code: number
      readonly reason: string
      /** What the socket knows of a failure to connect (never the token). */
      readonly error?: string
      /** The HTTP status of a refused upgrade, where the runtime tells it. */
      readonly httpStatus?: number
      /** A number in [0, 1) for the backoff's jitter. */
      readonly jitter: number
    }
  | { readonly type: 'timer'; readonly at: number; readonly timer: TimerName; readonly jitter: number }

/** What the interpreter must do. The machine returns them in the order they must happen. */
export type Effect =
  | { readonly type: 'read-credentials' }
  | { readonly type: 'open'; readonly socket: number; readonly url: string; readonly token: string }
  | { readonly type: 'send'; readonly socket: number; readonly text: string }
  | { readonly type: 'close-socket'; readonly socket: number }
  | { readonly type: 'arm'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'cancel'; readonly timer: TimerName }
  | { readonly type: 'status'; readonly status: ConnectionStatus }
  | { readonly type: 'control'; readonly payload: ControlPayload }
  | { readonly type: 'deliver'; readonly event: ReceivedEvent }
  /**
   * Deliver these events, in order, as one `deliver` effect each would: the live events of one
   * `frame` input that no decision held back (the hot path, one effect per frame).
   */
  | { readonly type: 'deliver-live'; readonly events: readonly ReceivedEvent[] }
  | { readonly type: 'diagnostic'; readonly diagnostic: Diagnostic }
  | { readonly type: 'count'; readonly reconnect: string }
  | { readonly type: 'ready-after'; readonly ms: number }
  /** Feed this input next, after any input user code queued while the effects ran. */
  | { readonly type: 'then'; readonly input: MachineInput }

/** Events held back during a replay, newest first: appending shares the older cells. */
interface HeldReplay {
  readonly event: ReceivedEvent
  readonly older: HeldReplay | undefined
}

export type { Watermark } from './watermark.js'

/** Where one connection is, from reading its credentials to live. */
type Phase = 'reading' | 'ready-to-open' | 'opening' | 'awaiting-identity' | 'awaiting-ready' | 'replaying' | 'live'

/** The one connection the machine may have. */
interface Connection {
  /** Its number: inputs from an older socket are ignored. */
  readonly socket: number
  readonly phase: Phase
  readonly startedAt: number
  readonly url: string
  readonly id: string
  readonly token: string
  /** When the socket opened (or the attempt began): quiet since then counts for liveness. */
  readonly openedAt: number
  /** The detail of an `invalid_auth` / `invalid_payload` / `ratelimited` payload, for the close that follows. */
  readonly errorDetail: string | undefined
  /** The replay held until `done_prior` to order it, and how many. */
  readonly held: HeldReplay | undefined
  readonly heldCount: number
  /** Set when a held replay was cut short: later replayed events are still treated as replayed. */
  readonly priorUntilDone: boolean
  /** A resumed connection: its replay passes on only events newer than this mark. */
  readonly resumeFrom: Watermark | undefined
  /** The replay held an event stamped at or before `resumeFrom`: it reached back over the whole gap. */
  readonly reachedMark: boolean
  /**
   * The server's `resume` payload's `channels`: per channel, `exact` when its replay is exactly
   * what followed the position sent (`after`), else why not. Undefined until one arrives.
   */
  readonly exact: Readonly<Record<string, string>> | undefined
}

/**
 * Everything the client knows, in one immutable value. Every field is always present (maybe
 * `undefined`), so that every state has one shape: a step's `{ ...state, lastFrameAt }` per
 * frame then stays on V8's fast path for copying objects.
 */
export interface MachineState {
  /** The last status emitted: its `state` is the public state. */
  readonly status: ConnectionStatus
  /** Some stream has a subscriber. */
  readonly subscribed: boolean
  /** `close()` was called and no `reconnect()` since. */
  readonly stopped: boolean
  /** Failed attempts since the last stable connection. */
  readonly failures: number
  /** Consecutive upgrades refused with an HTTP 4xx. */
  readonly refusals: number
  readonly budget: IdentifyBudget
  readonly requestsRemaining: number | undefined
  readonly lastFrameAt: number | undefined
  /**
   * The newest event delivered (moved only with `resume`; `prior` history never moves it). Set
   * at the first `ready`, to its `ts`, so it also says that the client has been connected:
   * every later connection fills a gap.
   */
  readonly watermark: Watermark | undefined
  /** While `reconnecting`: what the wait is for (only a backoff may be cut short by `online`). */
  readonly retry: 'backoff' | 'budget' | undefined
  readonly connection: Connection | undefined
  /** The number the next socket gets. */
  readonly nextSocket: number
}

/** The options the machine decides by. */
export type MachineConfig = Pick<
  ResolvedOptions,
  | 'bot'
  | 'resume'
  | 'sendAll'
  | 'sendNone'
  | 'backoff'
  | 'identityTimeoutMs'
  | 'readyTimeoutMs'
  | 'livenessTimeoutMs'
  | 'orderReplay'
  | 'maxReplayHeld'
  | 'replayTimeoutMs'
  | 'rateWindowMs'
  | 'minIdentifySpacingMs'
>

/** What one step returns. */
export interface Step {
  readonly state: MachineState
  readonly effects: readonly Effect[]
}

export { MaxRefusedUpgrades } from '../../protocol/close-policy.js'

/** The machine before anything happened: `closed`, not opened yet. */
export function initialState(at: number): MachineState {
  return {
    status: { state: 'closed', since: at, detail: 'Not opened yet: the connection opens on the first subscription.' },
    subscribed: false,
    stopped: false,
    failures: 0,
    refusals: 0,
    budget: {},
    requestsRemaining: undefined,
    lastFrameAt: undefined,
    watermark: undefined,
    retry: undefined,
    connection: undefined,
    nextSocket: 1,
  }
}

type Extra = Omit<ConnectionStatus, 'state' | 'since'>

const byTs = (a: ReceivedEvent, b: ReceivedEvent): number => (a.m.ts ?? -Infinity) - (b.m.ts ?? -Infinity)

const ConnectionTimers = ['handshake', 'liveness', 'stable', 'replay'] as const

/**
 * The state with a new `lastFrameAt` and `watermark`, written out field by field: measured, a
 * spread here (once per frame) cost V8's slow object clone and 15% of connect()'s throughput
 * at one event per frame. Every field is required, so the compiler names one this forgets.
 */
const copy = (s: MachineState, lastFrameAt: number | undefined, watermark: Watermark | undefined): MachineState => ({
  status: s.status,
  subscribed: s.subscribed,
  stopped: s.stopped,
  failures: s.failures,
  refusals: s.refusals,
  budget: s.budget,
  requestsRemaining: s.requestsRemaining,
  lastFrameAt,
  watermark,
  retry: s.retry,
  connection: s.connection,
  nextSocket: s.nextSocket,
})

/**
 * One step of the connection: the state after `input`, and the effects to perform, in order.
 * Pure and deterministic: the same state and input always give the same result.
 *
 * @example
 * let { state, effects } = step(initialState(0), { type: 'subscribed', at: 0 }, config)
 * // effects: [{ type: 'read-credentials' }]
 */
export function step(state: MachineState, input: MachineInput, config: MachineConfig): Step {
  // The input of the hot path, a frame of the current socket, decided here: it is most
  // inputs. (Apart from decide(), whose local functions would otherwise cost every call a
  // closure context.) A frame of a stale socket is decide()'s, which ignores it.
  if (input.type === 'frame' && input.socket === state.connection?.socket) return frame(state, input, config)
  return decide(state, input, config)
}

/**
 * A frame: its time is `lastFrameAt`; its run of plain live events (no diagnostic, the
 * connection `live` and not finishing a cut replay) costs one array, one `deliver-live` effect
 * and one state with the mark moved over the run at once (`advanceAll`, exactly as one input
 * each would move it); the first payload that is anything else ends the run and goes to
 * `decide` as a `decoded` input, and the run starts again after it if the phase allows. One
 * state copy for a frame of live events, time and mark together.
 */
function frame(state: MachineState, input: Extract<MachineInput, { type: 'frame' }>, config: MachineConfig): Step {
  const { at, socket } = input
  const effects: Effect[] = []
  let next = state
  let live: ReceivedEvent[] | undefined
  // Before any other decision, and at the end: the run's effect, its mark and the frame's time.
  const settle = (): void => {
    let mark = next.watermark
    if (live !== undefined) {
      effects.push({ type: 'deliver-live', events: live })
      if (config.resume) mark = advanceAll(mark, live, at)
    }
    live = undefined
    if (mark !== next.watermark || next.lastFrameAt !== at) next = copy(next, at, mark)
  }
  const payloads = input.payloads
  // Indexed: a for-of's iterator and results were allocation per payload until V8 optimised it.
  for (let i = 0; i < payloads.length; i++) {
    const decoded = payloads[i] as Decoded
    const connection = next.connection
    if (decoded.type === 'event' && decoded.diagnostic === undefined && connection?.phase === 'live' && connection.socket === socket && !connection.priorUntilDone) {
      ;(live ??= []).push(decoded.event)
    } else {
      settle()
      const result = decide(next, { type: 'decoded', at, socket, decoded }, config)
      next = result.state
      effects.push(...result.effects)
    }
  }
  settle()
  return { state: next, effects }
}

/** Every channel of the `resume` payload was replayed exactly: the gap is filled whatever `m.ts` says. */
const exactly = (connection: Connection): boolean => {
  const channels = connection.exact
  return channels !== undefined && Object.values(channels).every((outcome) => outcome === 'exact')
}

/** What the `live` status after a resumed replay says of the gap. */
const gapOutcome = (reached: boolean): Extra =>
  reached ? { gap: 'filled' } : { gap: 'unknown', detail: "Events of the gap may be missing: the server's history did not reach back that far." }

/** {@link step} for every input but the hot path's. */
function decide(state: MachineState, input: MachineInput, config: MachineConfig): Step {
  const connection = state.connection
  // Every other input: the decisions below read and replace `next`, and list their effects;
  // nothing escapes until the step returns. (Local functions rather than a class: they
  // minify to a few letters, and core's bundle has a ceiling.)
  const { at } = input
  let next = state
  const effects: Effect[] = []
  const budgetConfig: IdentifyBudgetConfig = { windowMs: config.rateWindowMs, minSpacingMs: config.minIdentifySpacingMs }
  const set = (change: Partial<MachineState>): void => {
    next = { ...next, ...change }
  }
  const setConnection = (change: Partial<Connection>): void => {
    if (next.connection !== undefined) set({ connection: { ...next.connection, ...change } })
  }
  const emit = (effect: Effect): void => {
    effects.push(effect)
  }

  // Every status goes through the transition table: the table decides what is possible.
  const move = (to: ConnectionState, extra: Extra = {}): void => {
    const from = next.status.state
    // A pure step never throws: a move the table forbids is a bug in this machine, and the
    // client stops as `failed` (allowed from every state) and says so, rather than tearing
    // down the interpreter mid-effects.
    if (!canTransition(from, to)) {
      const message = `fates-rx: internal error, transition ${from} → ${to} is not in the table`
      emit({ type: 'diagnostic', diagnostic: { kind: 'internal-error', message, raw: '' } })
      fail(message)
      return
    }
    const { requestsRemaining, lastFrameAt } = next
    const status: ConnectionStatus = {
      state: to,
      since: at,
      ...(requestsRemaining === undefined ? {} : { requestsRemaining }),
      ...(lastFrameAt === undefined ? {} : { lastFrameAt }),
      ...extra,
    }
    set({ status })
    emit({ type: 'status', status })
  }

  const deliver = (event: ReceivedEvent): void => {
    emit({ type: 'deliver', event })
    // The history (prior) lies before the first ready, whatever its producers' clocks say.
    if (!config.resume || event.prior === true) return
    const mark = next.watermark
    const moved = advance(mark, event, at)
    // Stryker disable next-line ConditionalExpression: `true` is equivalent: it sets the mark it already has.
    if (moved !== mark) set({ watermark: moved })
  }

  const deliverHeld = (): void => {
    const held: ReceivedEvent[] = []
    // Stryker disable next-line OptionalChaining: equivalent: every caller has a connection (endConnection checks; cutReplay and done_prior run on one).
    for (let cell = next.connection?.held; cell !== undefined; cell = cell.older) held.push(cell.event)
    // Stryker disable next-line ConditionalExpression: `false` is equivalent: with nothing held, `held` is already undefined and `heldCount` 0.
    if (held.length === 0) return
    setConnection({ held: undefined, heldCount: 0 })
    // Newest first in the list; reversed, a stable sort keeps arrival order among equal ts.
    for (const event of held.reverse().sort(byTs)) deliver(event)
  }

  /** Ends the connection: its socket (unless it closed itself), its timers; delivers what it held. */
  const endConnection = (closeSocket: boolean): void => {
    const ending = next.connection
    if (ending === undefined) return
    if (closeSocket && ending.phase !== 'reading' && ending.phase !== 'ready-to-open') {
      emit({ type: 'close-socket', socket: ending.socket })
    }
    for (const timer of ConnectionTimers) emit({ type: 'cancel', timer })
    // Events already received are real: deliver a partial replay rather than lose it.
    deliverHeld()
    set({ connection: undefined })
  }

  const cancelRetry = (): void => {
    if (next.retry === undefined) return
    emit({ type: 'cancel', timer: 'retry' })
    set({ retry: undefined })
  }

  const drop = (): void => {
    endConnection(true)
    cancelRetry()
  }

  const fail = (detail: string, cause: Extra = {}): void => {
    drop()
    move('failed', { ...cause, detail })
  }

  const closeWith = (detail: string): void => {
    drop()
    if (next.status.state !== 'closed') move('closed', { detail })
  }

  const waitThen = (waitMs: number, kind: 'backoff' | 'budget', extra: Extra): void => {
    cancelRetry()
    move('reconnecting', { attempt: next.failures, delayMs: waitMs, nextRetryAt: at + waitMs, ...extra })
    set({ retry: kind })
    emit({ type: 'arm', timer: 'retry', ms: waitMs })
  }

  const retryAfterBackoff = (jitter: number, cause: Extra, detail: string): void => {
    const failures = next.failures
    if (failures >= config.backoff.maxAttempts) {
      move('failed', { ...cause, detail: `Gave up after ${failures} reconnection attempts. Last: ${detail}` })
      return
    }
    set({ failures: failures + 1 })
    const delay = backoffDelay(failures + 1, config.backoff, () => jitter)
    const wait = identifyWait(next.budget, at, budgetConfig)
    const budgetLonger = wait.waitMs > delay
    waitThen(budgetLonger ? wait.waitMs : delay, budgetLonger ? 'budget' : 'backoff', {
      ...cause,
      detail: budgetLonger && wait.reason !== undefined ? `${detail} Then: ${wait.reason}` : detail,
    })
  }

  /** Connects if it may: subscribed, not stopped, and the identify budget allows it now. */
  const attempt = (): void => {
    if (!next.subscribed || next.stopped) return
    const wait = identifyWait(next.budget, at, budgetConfig)
    if (wait.waitMs > 0) {
      waitThen(wait.waitMs, 'budget', wait.reason === undefined ? {} : { detail: wait.reason })
      return
    }
    const socket = next.nextSocket
    set({
      nextSocket: socket + 1,
      connection: {
        socket,
        phase: 'reading',
        startedAt: at,
        // Stryker disable StringLiteral: placeholders, equivalent: `credentials` sets all three before anything reads them.
        url: '',
        id: '',
        token: '',
        // Stryker restore StringLiteral
        openedAt: at,
        errorDetail: undefined,
        held: undefined,
        heldCount: 0,
        priorUntilDone: false,
        resumeFrom: undefined,
        reachedMark: false,
        exact: undefined,
      },
    })
    emit({ type: 'read-credentials' })
  }

  const timedOut = (key: string, detail: string, jitter: number): void => {
    endConnection(true)
    emit({ type: 'count', reconnect: key })
    retryAfterBackoff(jitter, {}, detail)
  }

  /** A replay without end: deliver what is held, in order, and go live, saying why. */
  const cutReplay = (why: string): void => {
    emit({ type: 'cancel', timer: 'replay' })
    // Stryker disable OptionalChaining: equivalent: a replay is only cut on a connection (an event of it, or the replay timer while it replays).
    const message = `${why}: delivered the ${next.connection?.heldCount ?? 0} held, ordered by m.ts; later replayed events arrive as they come.`
    const resumed = next.connection?.resumeFrom !== undefined
    // Stryker restore OptionalChaining
    deliverHeld()
    setConnection({ phase: 'live', priorUntilDone: true })
    emit({ type: 'diagnostic', diagnostic: { kind: 'replay-cut', message, raw: '' } })
    move('live', resumed ? { detail: message, gap: 'unknown' } : { detail: message })
  }

  const onControl = (current: Connection, payload: ControlPayload): void => {
    emit({ type: 'control', payload })
    // -1 is what the server reports before identification (identity, invalid_auth,
    // invalid_payload): no information about the budget. Only a ratelimited payload's -1 is real.
    const remaining = payload.requests_remaining
    if (remaining !== undefined && (remaining !== Protocol.unidentifiedRequestsRemaining || payload.code === ControlCode.Ratelimited)) {
      set({ requestsRemaining: remaining, budget: afterReport(next.budget, remaining) })
    }
    switch (payload.code) {
      case ControlCode.Identity:
        if (current.phase !== 'awaiting-identity') return
        // A resumed connection asks for the history to find what it missed.
        emit({
          type: 'send',
          socket: current.socket,
          // With positions (a server that stamps them), `after` asks for exactly what followed.
          text: identifyMessage(current.id, current.token, { ...config, sendAll: config.sendAll || current.resumeFrom !== undefined }, current.resumeFrom?.pos),
        })
        set({ budget: afterIdentify(next.budget, at, budgetConfig) })
        setConnection({ phase: 'awaiting-ready' })
        emit({ type: 'arm', timer: 'handshake', ms: config.readyTimeoutMs })
        return
      case ControlCode.Ready: {
        if (current.phase !== 'awaiting-ready') return
        emit({ type: 'cancel', timer: 'handshake' })
        emit({ type: 'ready-after', ms: at - current.startedAt })
        emit({ type: 'arm', timer: 'stable', ms: config.backoff.resetAfterMs })
        // The first ready marks the client connected: events from now on are what a gap loses.
        // By the server's clock, which stamps every event published without an m.ts; the
        // client's only when the server sent none.
        const mark = next.watermark
        const ready = readyMark(payload, at, mark)
        // Stryker disable next-line ConditionalExpression: `true` is equivalent: it sets the mark it already has.
        if (ready !== mark) set({ watermark: ready })
        const replaying = config.sendAll || current.resumeFrom !== undefined
        setConnection({ phase: replaying ? 'replaying' : 'live' })
        if (replaying && config.orderReplay && config.replayTimeoutMs > 0) {
          emit({ type: 'arm', timer: 'replay', ms: config.replayTimeoutMs })
        }
        move(
          replaying ? 'replaying' : 'live',
          current.resumeFrom === undefined ? {} : { detail: 'Resuming: filling the gap with the events published since the last one delivered.' },
        )
        return
      }
      case ControlCode.DonePrior:
        if (current.phase === 'live') setConnection({ priorUntilDone: false })
        if (current.phase !== 'replaying') return
        emit({ type: 'cancel', timer: 'replay' })
        deliverHeld()
        setConnection({ phase: 'live' })
        move('live', current.resumeFrom === undefined ? {} : gapOutcome(current.reachedMark || exactly(current)))
        return
      case ResumeCode:
        if (current.phase === 'replaying') setConnection({ exact: (payload as { channels?: Record<string, string> }).channels })
        return
      case ControlCode.InvalidAuth:
      case ControlCode.InvalidPayload:
      case ControlCode.Ratelimited:
        setConnection({ errorDetail: `${payload.code}: ${payload.detail ?? ''}`.trim() })
        return
    }
  }

  /** A replayed event as it is passed on (`resumed` if newer than the gap, else `prior`), or undefined. */
  const replayed = (current: Connection, event: ReceivedEvent): ReceivedEvent | undefined => {
    const from = current.resumeFrom
    if (from !== undefined && !current.reachedMark && (event.m.ts ?? -Infinity) <= from.ts) setConnection({ reachedMark: true })
    // An exact channel's replay is only what followed the position: all of it is unseen.
    if (from !== undefined && (current.exact?.[event.chan as string] === 'exact' || unseen(event, from))) return { ...event, resumed: true }
    // The history itself only for sendAll, which asked for it: a replay that a drop cut short
    // is completed by the next one (dedupe drops what was delivered).
    return from === undefined || config.sendAll ? { ...event, prior: true } : undefined
  }

  const onEvent = (current: Connection, event: ReceivedEvent): void => {
    if (current.phase !== 'replaying') {
      const passed = current.priorUntilDone ? replayed(current, event) : event
      if (passed !== undefined) deliver(passed)
      return
    }
    const passed = replayed(current, event)
    if (passed === undefined) return
    if (!config.orderReplay) {
      deliver(passed)
      return
    }
    // Held until done_prior so that it can be delivered in m.ts order.
    const heldCount = current.heldCount + 1
    setConnection({ held: { event: passed, older: current.held }, heldCount })
    if (heldCount >= config.maxReplayHeld) {
      cutReplay(`The replay reached ${config.maxReplayHeld} held events before done_prior (maxReplayHeld)`)
    }
  }

  const onClosed = (current: Connection, closed: Extract<MachineInput, { type: 'closed' }>): void => {
    const { code, httpStatus, error, jitter } = closed
    const close: CloseDetails = { code, reason: redactSecret(closed.reason, current.token), meaning: closeMeaning(code) }
    const policy = closePolicy(code)
    // A 4012 is a fact about the budget whatever happens next.
    if (policy.action === 'cooldown') set({ budget: afterRatelimited(next.budget, at, budgetConfig) })
    endConnection(false)
    // A refused upgrade is decided by its HTTP status (the refusal policy), not its close code.
    const refusal = refusalAction(httpStatus)
    set({ refusals: refusal === 'give-up' ? next.refusals + 1 : 0 })
    // What the socket knew of a failure to connect, said after the policy's words.
    let known = httpStatus === undefined ? '' : ` The server answered the upgrade with HTTP ${httpStatus}.`
    if (error !== undefined) known += ` The socket reported: ${redactSecret(error, current.token)}.`
    if (refusal !== undefined) {
      const why = RefusalWhy[refusal] + known
      if (next.refusals >= MaxRefusedUpgrades) {
        fail(`Gave up after ${MaxRefusedUpgrades} refused upgrades in a row: check the url.${known}`, { close })
        return
      }
      emit({ type: 'count', reconnect: String(code) })
      if (refusal !== 'slow-retry') retryAfterBackoff(jitter, { close }, why)
      else {
        const wait = Math.floor(SlowRetry.minMs * (1 + jitter))
        waitThen(wait, 'backoff', { close, detail: `${why} Connecting again in ${Math.round(wait / 1000)} s.` })
      }
      return
    }
    switch (policy.action) {
      case 'fail':
        fail(current.errorDetail ?? `${close.meaning} ${policy.why}`, { close })
        return
      case 'cooldown': {
        emit({ type: 'count', reconnect: String(code) })
        const wait = identifyWait(next.budget, at, budgetConfig)
        const then = wait.reason ?? policy.why
        waitThen(wait.waitMs, 'budget', {
          close,
          detail: current.errorDetail === undefined ? then : `${current.errorDetail}. Then: ${then}`,
        })
        return
      }
      case 'backoff':
        emit({ type: 'count', reconnect: String(code) })
        retryAfterBackoff(jitter, { close }, (current.errorDetail ?? policy.why) + known)
        return
    }
  }

  const onTimer = (timer: TimerName, jitter: number): void => {
    switch (timer) {
      case 'retry':
        if (next.retry === undefined || connection !== undefined) return
        set({ retry: undefined })
        attempt()
        return
      case 'stable':
        if (connection !== undefined) set({ failures: 0 })
        return
      case 'handshake':
        if (connection === undefined) return
        timedOut(
          'timeout',
          connection.phase === 'awaiting-ready'
            ? `No ready payload within ${config.readyTimeoutMs} ms of identifying.`
            : `No identity payload within ${config.identityTimeoutMs} ms.`,
          jitter,
        )
        return
      case 'liveness': {
        if (connection === undefined || config.livenessTimeoutMs <= 0) return
        // One timer per quiet period, not one per frame: each frame only notes the time.
        const quiet = at - Math.max(connection.openedAt, next.lastFrameAt ?? -Infinity)
        if (quiet >= config.livenessTimeoutMs) timedOut('liveness', `No frame for ${config.livenessTimeoutMs} ms.`, jitter)
        else emit({ type: 'arm', timer: 'liveness', ms: config.livenessTimeoutMs - quiet })
        return
      }
      case 'replay':
        if (connection?.phase === 'replaying') cutReplay(`No done_prior within ${config.replayTimeoutMs} ms of ready (replayTimeoutMs)`)
        return
    }
  }

  switch (input.type) {
    case 'subscribed':
      set(config.resume && input.from !== undefined ? { subscribed: true, watermark: input.from } : { subscribed: true })
      if (state.status.state === 'closed' && connection === undefined) attempt()
      break
    case 'unsubscribed':
      // The next subscriber starts afresh, as if the client were new (the budget is kept).
      set({ subscribed: false, failures: 0, watermark: undefined })
      closeWith('No subscribers left.')
      break
    case 'close':
      set({ stopped: true })
      closeWith('Closed by the user.')
      break
    case 'reconnect': {
      set({ stopped: false, failures: 0 })
      if (connection !== undefined) {
        endConnection(true)
        emit({ type: 'count', reconnect: 'manual' })
      }
      cancelRetry()
      if (!state.subscribed) break
      const current = state.status.state
      if (current !== 'closed' && current !== 'failed' && current !== 'reconnecting') {
        move('reconnecting', { attempt: 0, delayMs: 0, nextRetryAt: at, detail: 'reconnect() was called.' })
      }
      attempt()
      break
    }
    case 'online':
      if (state.status.state === 'reconnecting' && state.retry === 'backoff') {
        cancelRetry()
        attempt()
      }
      break
    case 'credentials': {
      if (connection?.phase !== 'reading') break
      // Every connection after the first fills the gap since the last event delivered.
      const resumeFrom = config.resume ? state.watermark : undefined
      setConnection({ phase: 'ready-to-open', url: input.url, id: input.id, token: input.token, startedAt: at, openedAt: at, resumeFrom })
      move(
        'connecting',
        !config.resume && state.watermark !== undefined
          ? { attempt: state.failures, detail: 'resume is off: events published while the client was disconnected are not delivered.' }
          : { attempt: state.failures },
      )
      // Opened only once the status has settled: a subscriber that leaves on `connecting`
      // costs no socket.
      emit({ type: 'then', input: { type: 'open-now', at } })
      break
    }
    case 'credentials-failed':
      if (connection?.phase === 'reading') fail(input.detail)
      break
    case 'open-now':
      if (connection?.phase !== 'ready-to-open') break
      setConnection({ phase: 'opening' })
      emit({ type: 'arm', timer: 'handshake', ms: config.identityTimeoutMs })
      emit({ type: 'open', socket: connection.socket, url: connection.url, token: connection.token })
      break
    case 'timer':
      onTimer(input.timer, input.jitter)
      break
    default:
      // Everything else comes from a socket: only the current one counts.
      if (connection === undefined || input.socket !== connection.socket) break
      if (input.type === 'opened') {
        if (connection.phase !== 'opening') break
        setConnection({ phase: 'awaiting-identity', openedAt: at })
        move('identifying', { attempt: state.failures })
        if (config.livenessTimeoutMs > 0) emit({ type: 'arm', timer: 'liveness', ms: config.livenessTimeoutMs })
      } else if (input.type === 'closed') onClosed(connection, input)
      else if (input.type === 'decoded') {
        // The partition of partitionPayloads(), made here, in the payloads' order: each kind
        // leads to a decision, and a control payload changes what the events after it are.
        const decoded = input.decoded
        if (decoded.type === 'control') onControl(connection, decoded.control)
        else {
          if (decoded.type === 'event') onEvent(connection, decoded.event)
          if (decoded.diagnostic !== undefined) emit({ type: 'diagnostic', diagnostic: decoded.diagnostic })
        }
      }
  }
  return { state: next, effects }
}
