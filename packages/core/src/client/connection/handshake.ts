import type { ControlPayload } from '../../codec/codecs.js'
import { ControlCode } from '../../protocol/control.js'
import { Protocol } from '../../protocol/limits.js'
import { afterIdentify, afterReport } from '../policies/identify-budget.js'
import { identifyMessage } from '../options.js'
import { at, budgetConfig, config, emit, fail, move, next, set, setConnection } from './decision.js'
import type { Connection, InputOf } from './machine-types.js'
import { timedOut } from './retry.js'
import { readyMark } from './watermark.js'

// From credentials to `ready`: the socket is opened with what the credentials gave, the
// server's `identity` is answered with the identify, and its `ready` makes the connection
// replay or go live. Handlers of the machine's table (machine.ts), each called only in the
// phase its row names.

/** `reading`: the credentials arrived; the socket opens once the `connecting` status has settled. */
export function credentials(input: InputOf<'credentials'>): void {
  // Every connection after the first fills the gap since the last event delivered.
  const resumeFrom = config.resume ? next.watermark : undefined
  setConnection({ phase: 'ready-to-open', url: input.url, id: input.id, token: input.token, startedAt: at, openedAt: at, resumeFrom })
  move(
    'connecting',
    !config.resume && next.watermark !== undefined
      ? { attempt: next.failures, detail: 'resume is off: events published while the client was disconnected are not delivered.' }
      : { attempt: next.failures },
  )
  // Opened only once the status has settled: a subscriber that leaves on `connecting`
  // costs no socket.
  emit({ type: 'then', input: { type: 'open-now', at } })
}

/** `reading`: no credentials: nothing to connect with. */
export function credentialsFailed(input: InputOf<'credentials-failed'>): void {
  fail(input.detail)
}

/** `ready-to-open`: open the socket, and wait for `identity` no longer than the options say. */
export function openNow(_input: InputOf<'open-now'>, connection: Connection): void {
  setConnection({ phase: 'opening' })
  emit({ type: 'arm', timer: 'handshake', ms: config.identityTimeoutMs })
  emit({ type: 'open', socket: connection.socket, url: connection.url, token: connection.token })
}

/** `opening`: the socket opened; liveness counts from now. */
export function opened(): void {
  // An upgrade accepted: the refused upgrades before it are no longer "in a row".
  set({ refusals: 0 })
  setConnection({ phase: 'awaiting-identity', openedAt: at })
  move('identifying', { attempt: next.failures })
  if (config.livenessTimeoutMs > 0) emit({ type: 'arm', timer: 'liveness', ms: config.livenessTimeoutMs })
}

/** Any control payload of the current socket, before its code's own handler: passed on, and what it says of the budget noted. */
export function observeControl(payload: ControlPayload): void {
  emit({ type: 'control', payload })
  // -1 is what the server reports before identification (identity, invalid_auth,
  // invalid_payload): no information about the budget. Only a ratelimited payload's -1 is real.
  const remaining = payload.requests_remaining
  if (remaining !== undefined && (remaining !== Protocol.unidentifiedRequestsRemaining || payload.code === ControlCode.Ratelimited)) {
    set({ requestsRemaining: remaining, budget: afterReport(next.budget, remaining) })
  }
}

/** `identity` while awaiting it: identify, asking for the history a resumed connection missed. */
export function identity(_payload: ControlPayload, current: Connection): void {
  emit({
    type: 'send',
    socket: current.socket,
    // With positions (a server that stamps them), `after` asks for exactly what followed.
    text: identifyMessage(current.id, current.token, { ...config, sendAll: config.sendAll || current.resumeFrom !== undefined }, current.resumeFrom?.pos),
  })
  set({ budget: afterIdentify(next.budget, at, budgetConfig()) })
  setConnection({ phase: 'awaiting-ready' })
  emit({ type: 'arm', timer: 'handshake', ms: config.readyTimeoutMs })
}

/** `ready` while awaiting it: replaying (history asked for) or live. */
export function ready(payload: ControlPayload, current: Connection): void {
  emit({ type: 'cancel', timer: 'handshake' })
  emit({ type: 'ready-after', ms: at - current.startedAt })
  emit({ type: 'arm', timer: 'stable', ms: config.backoff.resetAfterMs })
  // The first ready marks the client connected: events from now on are what a gap loses.
  // By the server's clock, which stamps every event published without an m.ts; the
  // client's only when the server sent none.
  const mark = next.watermark
  const readied = readyMark(payload, at, mark)
  // Stryker disable next-line ConditionalExpression: `true` is equivalent: it sets the mark it already has.
  if (readied !== mark) set({ watermark: readied })
  const replaying = config.sendAll || current.resumeFrom !== undefined
  setConnection({ phase: replaying ? 'replaying' : 'live' })
  if (replaying && config.orderReplay && config.replayTimeoutMs > 0) {
    emit({ type: 'arm', timer: 'replay', ms: config.replayTimeoutMs })
  }
  move(
    replaying ? 'replaying' : 'live',
    current.resumeFrom === undefined ? {} : { detail: 'Resuming: filling the gap with the events published since the last one delivered.' },
  )
}

/** `invalid_auth`, `invalid_payload`, `ratelimited`: kept for the close that follows. */
export function refused(payload: ControlPayload): void {
  setConnection({ errorDetail: `${payload.code}: ${payload.detail ?? ''}`.trim() })
}

/** The handshake timer: no `identity` (or no `ready`) in time. */
export function handshakeTimer(input: InputOf<'timer'>, connection: Connection): void {
  timedOut(
    'timeout',
    connection.phase === 'awaiting-ready'
      ? `No ready payload within ${config.readyTimeoutMs} ms of identifying.`
      : `No identity payload within ${config.identityTimeoutMs} ms.`,
    input.jitter,
  )
}

/** The liveness timer: a connection quiet too long is taken as dead. */
export function livenessTimer(input: InputOf<'timer'>, connection: Connection): void {
  if (config.livenessTimeoutMs <= 0) return
  // One timer per quiet period, not one per frame: each frame only notes the time.
  const quiet = at - Math.max(connection.openedAt, next.lastFrameAt ?? -Infinity)
  if (quiet >= config.livenessTimeoutMs) timedOut('liveness', `No frame for ${config.livenessTimeoutMs} ms.`, input.jitter)
  else emit({ type: 'arm', timer: 'liveness', ms: config.livenessTimeoutMs - quiet })
}

/** The stable timer: connected long enough that the backoff starts over. */
export function stableTimer(): void {
  set({ failures: 0 })
}
