import type { ControlPayload, ReceivedEvent } from '../../codec/codecs.js'
import type { Decoded } from '../../operators/diagnostic.js'
import { ResumeCode } from '../../codec/position.js'
import { ControlCode } from '../../protocol/control.js'
import { begin, deliverHeld, emit, end } from './decision.js'
import {
  credentials,
  credentialsFailed,
  handshakeTimer,
  identity,
  livenessTimer,
  observeControl,
  opened,
  openNow,
  ready,
  refused,
  stableTimer,
} from './handshake.js'
import type { Connection, Effect, InputOf, MachineConfig, MachineInput, MachineState, Phase, Step, TimerName } from './machine-types.js'
import { donePrior, doneAfterCut, onEvent, replayTimer, resumed } from './replay.js'
import { close, closed, online, reconnect, retryTimer, subscribed, unsubscribed } from './retry.js'
import { advanceAll, type Watermark } from './watermark.js'

// The connection as a pure state machine ("sans-I/O", as h11 does HTTP): `step(state, input)`
// returns the next state and the effects to perform. It owns every decision (when to connect,
// what to send, which timer to arm, what to emit) and performs none: no socket, no timer, no
// Subject, no clock; time and jitter arrive in the inputs. The interpreter in connect.ts runs
// the effects after each step, so user code only ever sees settled state.
//
// This file holds the whole map at a glance (the tables below: which input, in which phase,
// goes to which handler) and the hot path (a frame of live events); the handlers live by
// concern in handshake.ts, replay.ts and retry.ts, and what they share in decision.ts.

export type { Connection, Effect, HeldReplay, MachineConfig, MachineInput, MachineState, Phase, Step, TimerName } from './machine-types.js'
export type { Watermark } from './watermark.js'
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
  // inputs. A frame of a stale socket is decide()'s, whose table ignores it.
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
function frame(state: MachineState, input: InputOf<'frame'>, config: MachineConfig): Step {
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
    // Stryker disable next-line ConditionalExpression: the socket check's `true` is equivalent: no decision on a control payload or a diagnostic ends the connection or opens another mid-frame (closes, timers and the user's calls do), so the socket stays the frame's.
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

/**
 * One row of the tables: per phase of the connection, the handler of an input in that phase.
 * `connected` serves every phase its own key does not name. A row that is a function alone
 * serves the input whatever the phase, also without a connection. A phase the row does not
 * serve ignores the input: that is the table's answer, not a guard in a handler.
 */
type Row<I> =
  | ((input: I, connection: Connection | undefined) => void)
  | { readonly [P in Phase | 'connected']?: (input: I, connection: Connection) => void }

type Rows = { readonly [T in MachineInput['type']]: Row<InputOf<T>> }

/** What each timer does, by phase (`timer` inputs). */
const Timers: { readonly [T in TimerName]: Row<InputOf<'timer'>> } = {
  retry: retryTimer,
  handshake: { connected: handshakeTimer },
  liveness: { connected: livenessTimer },
  stable: { connected: stableTimer },
  replay: { replaying: replayTimer },
}

/** A payload refusing the identify, in any phase: its words are kept for the close that follows. */
const Refusal: Row<ControlPayload> = { connected: refused }

/**
 * What each control payload does once passed on (`observeControl`), by its code and the
 * phase; a code not named here (unknown to this client) is passed on and nothing more.
 */
const Controls: Readonly<Record<string, Row<ControlPayload>>> = {
  [ControlCode.Identity]: { 'awaiting-identity': identity },
  [ControlCode.Ready]: { 'awaiting-ready': ready },
  [ControlCode.DonePrior]: { replaying: donePrior, live: doneAfterCut },
  [ResumeCode]: { replaying: resumed },
  [ControlCode.InvalidAuth]: Refusal,
  [ControlCode.InvalidPayload]: Refusal,
  [ControlCode.Ratelimited]: Refusal,
}

/** One payload of the current socket, in its place: a control payload by its table, an event, a diagnostic. */
function onDecoded(input: InputOf<'decoded'>, connection: Connection): void {
  const decoded: Decoded = input.decoded
  if (decoded.type === 'control') {
    const payload = decoded.control
    // A replay held for order goes before the done_prior that ends it, as it came before it on
    // the wire: control$ says the replay is over once event$ has all of it.
    if (payload.code === ControlCode.DonePrior) {
      // Stryker disable next-line ConditionalExpression: `true` is equivalent: past the replay (live after a cut) nothing is held.
      if (connection.phase === 'replaying') deliverHeld()
    }
    observeControl(payload)
    // Own keys only: a code is the server's text, and `constructor` must not find a handler.
    if (Object.hasOwn(Controls, payload.code)) dispatch(Controls[payload.code] as Row<ControlPayload>, payload, connection)
    return
  }
  if (decoded.type === 'event') onEvent(connection, decoded.event)
  if (decoded.diagnostic !== undefined) emit({ type: 'diagnostic', diagnostic: decoded.diagnostic })
}

/**
 * The whole machine, by input and phase. Inputs from a socket (`opened`, `decoded`, `closed`,
 * `frame`) serve only the current socket: none is a function alone. A `frame` of the current socket
 * never gets here (`step` takes it on the hot path), so its row is empty: a stale socket's.
 */
const Inputs: Rows = {
  subscribed,
  unsubscribed,
  close,
  reconnect,
  online,
  credentials: { reading: credentials },
  'credentials-failed': { reading: credentialsFailed },
  'open-now': { 'ready-to-open': openNow },
  opened: { opening: opened },
  decoded: { connected: onDecoded },
  frame: {},
  closed: { connected: closed },
  timer: (input, connection) => dispatch(Timers[input.timer], input, connection),
}

/**
 * Runs the handler that `row` has for the connection's phase, if any. `connection`: the one
 * the input concerns, undefined if none (or the input's socket is not the current one).
 */
function dispatch<I>(row: Row<I>, input: I, connection: Connection | undefined): void {
  if (typeof row === 'function') row(input, connection)
  else if (connection !== undefined) (row[connection.phase] ?? row.connected)?.(input, connection)
}

/** {@link step} for every input but the hot path's: its row of the table, in a decision of its own. */
function decide(state: MachineState, input: MachineInput, config: MachineConfig): Step {
  begin(state, input.at, config)
  const connection = state.connection
  // An input from a socket concerns the connection only if it is that connection's socket.
  dispatch(Inputs[input.type] as Row<MachineInput>, input, 'socket' in input && input.socket !== connection?.socket ? undefined : connection)
  return end()
}
