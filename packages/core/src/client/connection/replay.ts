import type { ControlPayload, ReceivedEvent } from '../../codec/codecs.js'
import { config, deliver, deliverHeld, emit, markOver, move, next, replayDone, setConnection } from './decision.js'
import type { Connection, Extra } from './machine-types.js'
import { unseen } from './watermark.js'

// The history after `ready`: what of it is passed on (`resumed` if newer than the gap, `prior`
// if asked for), held until `done_prior` to order it, cut short when it grows or takes too
// long, and what the `live` status then says of the gap. Handlers of the machine's table
// (machine.ts).

/**
 * Every channel of the `resume` payload was replayed exactly: the gap is filled whatever `m.ts`
 * says. A payload that names no channel (`channels` missing, `null`, `{}` or no object: a server
 * of another version) vouches for nothing, and must not throw in the step.
 */
const exactly = (connection: Connection): boolean => {
  const outcomes = Object.values(connection.exact ?? {})
  return outcomes.length > 0 && outcomes.every((outcome) => outcome === 'exact')
}

/** What the `live` status after a resumed replay says of the gap. */
const gapOutcome = (reached: boolean): Extra =>
  reached ? { gap: 'filled' } : { gap: 'unknown', detail: "Events of the gap may be missing: the server's history did not reach back that far." }

/** A replay without end: deliver what is held, in order, and go live, saying why. */
function cutReplay(why: string): void {
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

/** A replayed event as it is passed on (`resumed` if newer than the gap, else `prior`), or undefined. */
function replayed(current: Connection, event: ReceivedEvent): ReceivedEvent | undefined {
  const from = current.resumeFrom
  if (from !== undefined && !current.reachedMark && (event.m.ts ?? -Infinity) <= from.ts) setConnection({ reachedMark: true })
  // An exact channel's replay is only what followed the position: all of it is unseen.
  if (from !== undefined && (current.exact?.[event.chan as string] === 'exact' || unseen(event, from))) return { ...event, resumed: true }
  // The history itself only for sendAll, which asked for it: a replay that a drop cut short
  // is completed by the next one (dedupe drops what was delivered).
  // Stryker disable next-line ConditionalExpression: `from === undefined` as `false` is equivalent: a connection replays without a mark only because sendAll asked for it, so `config.sendAll` answers alike.
  return from === undefined || config.sendAll ? { ...event, prior: true } : undefined
}

/**
 * An event of the current socket outside the hot path: before `ready`, replayed, or after a
 * cut replay (then still judged as replayed until `done_prior`).
 */
export function onEvent(current: Connection, event: ReceivedEvent): void {
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
  // Held until done_prior so that it can be delivered in m.ts order; the replay's mark moves
  // now, in the order the server sent it (an exact replay's positions rise in that order).
  const heldCount = current.heldCount + 1
  setConnection({ held: { event: passed, older: current.held }, heldCount })
  markOver(passed)
  if (heldCount >= config.maxReplayHeld) {
    cutReplay(`The replay reached ${config.maxReplayHeld} held events before done_prior (maxReplayHeld)`)
  }
}

/**
 * `done_prior` while replaying: live, saying what became of the gap. The held replay was
 * delivered, in order, before the payload was passed on (machine.ts `onDecoded`).
 */
export function donePrior(_payload: ControlPayload, current: Connection): void {
  emit({ type: 'cancel', timer: 'replay' })
  replayDone()
  setConnection({ phase: 'live' })
  move('live', current.resumeFrom === undefined ? {} : gapOutcome(current.reachedMark || exactly(current)))
}

/** `done_prior` once live: a cut replay is over, and later events are live ones again. */
export function doneAfterCut(): void {
  replayDone()
  setConnection({ priorUntilDone: false })
}

/** The server's `resume` payload while replaying: which channels' replays are exact. */
export function resumed(payload: ControlPayload): void {
  setConnection({ exact: (payload as { channels?: Record<string, string> }).channels })
}

/** The replay timer while replaying: no `done_prior` in time. */
export function replayTimer(): void {
  cutReplay(`No done_prior within ${config.replayTimeoutMs} ms of ready (replayTimeoutMs)`)
}
