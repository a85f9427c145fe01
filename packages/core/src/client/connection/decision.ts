import type { ReceivedEvent } from '../../codec/codecs.js'
import type { IdentifyBudgetConfig } from '../policies/identify-budget.js'
import type { Connection, Effect, Extra, MachineConfig, MachineState, Step } from './machine-types.js'
import { type ConnectionState, type ConnectionStatus, canTransition } from './status.js'
import { advance } from './watermark.js'

// The decision in progress: what every handler reads (`next`, `at`, `config`) and the few
// moves by which it changes them. One decision is one call of `decide` in machine.ts, which
// `begin`s it, runs one handler from its table and `end`s it: the state and effects are
// returned and nothing of the decision outlives the call, so `step` stays a pure function.
//
// Why module bindings rather than a context object or closures: a step is synchronous and
// calls out to nothing (no callback, no user code), so no two decisions ever overlap, even
// with many machines in one worker; and as bindings they cost no allocation per input (the
// closures they replace were about twenty per call, 2.3 KB) and minify to a letter (a context
// object's property names would not, and core's bundle has a ceiling). Handlers in other
// modules read them as ES live bindings; only the functions here assign them.

/** The state as decided so far: read it, replace it through {@link set}. */
export let next: MachineState
/** When the input happened (ms). */
export let at: number
/** The options the machine decides by. */
export let config: MachineConfig
let effects: Effect[]

/** Starts a decision on `state` for an input that happened `time`. */
export function begin(state: MachineState, time: number, options: MachineConfig): void {
  next = state
  at = time
  config = options
  effects = []
}

/** Ends the decision: the state decided and the effects listed, in order. */
export function end(): Step {
  return { state: next, effects }
}

/** The identify budget's settings, from the options. */
export const budgetConfig = (): IdentifyBudgetConfig => ({ windowMs: config.rateWindowMs, minSpacingMs: config.minIdentifySpacingMs })

/** Replaces these fields of the state. */
export function set(change: Partial<MachineState>): void {
  next = { ...next, ...change }
}

/** Replaces these fields of the connection, if there is one. */
export function setConnection(change: Partial<Connection>): void {
  // Stryker disable next-line ConditionalExpression: `true` is equivalent: every caller runs on a connection (a handler its row gave one, cutReplay and deliverHeld while replaying).
  if (next.connection !== undefined) set({ connection: { ...next.connection, ...change } })
}

/** Lists an effect, after those listed before it. */
export function emit(effect: Effect): void {
  effects.push(effect)
}

/** Moves the public state; every status goes through the transition table, which decides what is possible. */
export function move(to: ConnectionState, extra: Extra = {}): void {
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

/** Delivers an event, and moves the mark over it unless it is history. */
export function deliver(event: ReceivedEvent): void {
  emit({ type: 'deliver', event })
  markOver(event)
}

/**
 * Moves the mark over an event delivered, or held to be: the state's mark, or while a replay
 * is not whole yet (replaying, or cut and waiting for `done_prior`) the replay's own
 * (`replayMark`). A replay comes in any order (the original server's is random): an event of
 * it says nothing of those not yet come, so until `done_prior` the gap stays open from where it
 * began, and a drop mid-replay resumes from there again (the eid dedupe drops what was
 * delivered) instead of from past events that never came.
 */
export function markOver(event: ReceivedEvent): void {
  // The history (prior) lies before the first ready, whatever its producers' clocks say.
  if (!config.resume || event.prior === true) return
  const connection = next.connection
  // Stryker disable next-line ConditionalExpression: the connection test's `true` is equivalent: an event is delivered or held only on a connection.
  if (connection !== undefined && (connection.phase === 'replaying' || connection.priorUntilDone)) {
    const from = connection.replayMark ?? next.watermark
    const moved = advance(from, event, at)
    // Stryker disable next-line ConditionalExpression: `true` is equivalent: it sets the mark it already has.
    if (moved !== from) setConnection({ replayMark: moved })
    return
  }
  const mark = next.watermark
  const moved = advance(mark, event, at)
  // Stryker disable next-line ConditionalExpression: `true` is equivalent: it sets the mark it already has.
  if (moved !== mark) set({ watermark: moved })
}

/** The replay is whole (`done_prior`): its mark becomes the state's. */
export function replayDone(): void {
  // Stryker disable next-line OptionalChaining: equivalent: done_prior runs on a connection.
  const mark = next.connection?.replayMark
  if (mark === undefined) return
  set({ watermark: mark })
  setConnection({ replayMark: undefined })
}

const byTs = (a: ReceivedEvent, b: ReceivedEvent): number => (a.m.ts ?? -Infinity) - (b.m.ts ?? -Infinity)

/** Delivers the replay held so far, ordered by `m.ts` (the replay's mark moved as each was held). */
export function deliverHeld(): void {
  const held: ReceivedEvent[] = []
  // Stryker disable next-line OptionalChaining: equivalent: every caller runs on a connection (cutReplay and done_prior).
  for (let cell = next.connection?.held; cell !== undefined; cell = cell.older) held.push(cell.event)
  // Stryker disable next-line ConditionalExpression: `false` is equivalent: with nothing held, `held` is already undefined and `heldCount` 0.
  if (held.length === 0) return
  setConnection({ held: undefined, heldCount: 0 })
  // Newest first in the list; reversed, a stable sort keeps arrival order among equal ts.
  for (const event of held.reverse().sort(byTs)) emit({ type: 'deliver', event })
}

const ConnectionTimers = ['handshake', 'liveness', 'stable', 'replay'] as const

/** Ends the connection: its socket (unless it closed itself), its timers, and a replay it held. */
export function endConnection(closeSocket: boolean): void {
  const ending = next.connection
  if (ending === undefined) return
  if (closeSocket && ending.phase !== 'reading' && ending.phase !== 'ready-to-open') {
    emit({ type: 'close-socket', socket: ending.socket })
  }
  for (const timer of ConnectionTimers) emit({ type: 'cancel', timer })
  // A replay held and not ended goes with its connection, undelivered, and so does its mark:
  // the next connection resumes from where the gap began, and its replay brings those events
  // again, whole and in order. Delivered now, they would come before older ones of the gap
  // that this replay had not reached yet.
  set({ connection: undefined })
}

/** Cancels a pending retry, if any. */
export function cancelRetry(): void {
  if (next.retry === undefined) return
  emit({ type: 'cancel', timer: 'retry' })
  set({ retry: undefined })
}

/** Ends the connection and any pending retry. */
function drop(): void {
  endConnection(true)
  cancelRetry()
}

/** Stops for good (until `reconnect()`), saying why. */
export function fail(detail: string, cause: Extra = {}): void {
  drop()
  move('failed', { ...cause, detail })
}

/** Stops as `closed`, saying why. */
export function closeWith(detail: string): void {
  drop()
  if (next.status.state !== 'closed') move('closed', { detail })
}
