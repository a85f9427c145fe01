import { either } from 'fp-ts'
import {
  CloseCode,
  CloseInfo,
  ControlCode,
  ControlDetail,
  Protocol,
  RelayCloseInfo,
  ResumeCode,
  ResumeReasons,
  type Position,
  type ResumeOutcome,
} from '@fates-rx/core/protocol'
import { parseIdentify, type IdentifyRequest } from '../identify/parse.js'
import { sameSecret } from '../secret.js'
import { channelOf, GlobalChannel, rateKey, type EventsById, type IdentityKind } from '../stores/store.js'
import { ServerDetail } from '../wire/details.js'
import { encodeEvent, type EncodedEvent } from '../wire/encode.js'
import { planReplay } from './replay-plan.js'
import type { ViewerHold, ViewerRefusal } from './viewers.js'

/**
 * Where a connection is in its life, in order: `waiting` for the identify, `identifying` while
 * the store answers, `ready` once identified, `closing` after the server sent (or asked for) a
 * close, `closed` once the socket reported its close.
 */
export type ConnectionPhase = 'waiting' | 'identifying' | 'ready' | 'closing' | 'closed'

/** The timers a connection uses; each is armed and cancelled by name and fires as a `timer` input. */
export type ConnectionTimer =
  /** No identify within `identifyTimeoutMs`: close with 4000. */
  | 'identify'
  /** Time to ping the peer (re-armed every `pingIntervalMs`). */
  | 'ping'
  /** No pong and no message within `pongTimeoutMs`: drop the peer. */
  | 'dead'
  /** `donePriorDelayMs` after a `send_all` replay: send `done_prior`. */
  | 'done-prior'
  /** A slow reader was sent a close it may never read: drop it after {@link SlowReaderLingerMs}. */
  | 'linger'
  /** Relay mode: a held admission was not answered within its `holdMs`: turn the viewer away. */
  | 'admission'

/** Every {@link ConnectionTimer}: what the interpreter cancels when the socket closes. */
export const ConnectionTimers: readonly ConnectionTimer[] = Object.freeze(['identify', 'ping', 'dead', 'done-prior', 'linger', 'admission'])

/** Which store answer an identifying (or rate-counting) connection waits for. */
export type Awaiting = 'token' | 'admission' | 'count' | 'join' | 'history'

/** One connection's state; every field is replaced, never mutated. */
export interface ConnectionMachineState {
  readonly phase: ConnectionPhase
  /** The answer the connection waits for (one at a time: messages are handled in order). */
  readonly awaiting: Awaiting | undefined
  /** The parsed identify, once it arrived. */
  readonly request: IdentifyRequest | undefined
  /** Channels joined on the fan-out (left again when the socket closes). */
  readonly joined: readonly string[]
  /** Live events are held (by the interpreter) until `ready` and the replay are queued. */
  readonly holding: boolean
  /** Client messages that arrived while another one was being counted, oldest first. */
  readonly backlog: number
  /** Relay mode: this connection's own ratelimit counter. */
  readonly requests: number
  /** The `requests_remaining` last reported to the client. */
  readonly remaining: number
  /** Relay mode: the viewer gate was told that this viewer joined (so must be told it left). */
  readonly viewing: boolean
  /**
   * Relay mode: the viewer gate held this viewer's admission, on these terms, and counts it
   * until it joins (`ready`), so must be told if it goes first (`unheld`).
   */
  readonly held: ViewerHold | undefined
}

/** The rules a connection follows; `startServer` fills them from its options. */
export interface ConnectionRules {
  /** The highest ratelimit counter value allowed. */
  readonly rateLimit: number
  /** The ratelimit window, fixed when a counter is created (milliseconds). */
  readonly rateWindowMs: number
  /** What an identify costs. */
  readonly identifyCost: number
  /** What every later client message costs. */
  readonly messageCost: number
  /** Close with 4000 when no identify arrived within this time (milliseconds; 0 = never). */
  readonly identifyTimeoutMs: number
  /** How often to ping (milliseconds). */
  readonly pingIntervalMs: number
  /** Drop a peer after this long without a pong or message (milliseconds). */
  readonly pongTimeoutMs: number
  /** Delay between the `send_all` replay and `done_prior` (milliseconds). */
  readonly donePriorDelayMs: number
  /**
   * Relay mode: a viewer gate admits viewers, and the ratelimit counts per connection (in this
   * state), never on the per-identity counter, which is the upstream's budget.
   */
  readonly relay: boolean
  /**
   * The store stamps positions: an identify's `after` is read (and checked), and a replay after
   * it is exact where the store can vouch for it. `false`: `after` is ignored, as the original
   * ignored it. @default false
   */
  readonly positions?: boolean
}

/**
 * The {@link ConnectionRules} a server's configuration sets (the others follow from its store
 * and mode), named once for `ProtocolConfig` and for whoever copies them out of options.
 */
export const ConfiguredRules = Object.freeze([
  'rateLimit',
  'rateWindowMs',
  'identifyCost',
  'messageCost',
  'identifyTimeoutMs',
  'pingIntervalMs',
  'pongTimeoutMs',
  'donePriorDelayMs',
] as const)

/** The rules a configuration sets: see {@link ConfiguredRules}. */
export type ConfiguredRules = Pick<ConnectionRules, (typeof ConfiguredRules)[number]>

/** The configured rules of `config`, and nothing else of it. Pure. */
export function configuredRules(config: ConfiguredRules): ConfiguredRules {
  const rules: Partial<Record<keyof ConfiguredRules, number>> = {}
  for (const key of ConfiguredRules) rules[key] = config[key]
  return rules as ConfiguredRules
}

/** Why a connection's writer gave up on a peer that does not read fast enough. */
export type Overflow =
  /** More queued events than `maxQueuedEvents`. */
  | { readonly type: 'events'; readonly limit: number }
  /** More queued and buffered bytes than `maxQueuedBytes`. */
  | { readonly type: 'bytes'; readonly limit: number }

/** What the interpreter tells the machine: socket events, store answers, relay calls, timers. */
export type ConnectionInput =
  /** A client message, as text or bytes. */
  | { readonly type: 'message'; readonly data: string | Uint8Array }
  /** A pong arrived. */
  | { readonly type: 'pong' }
  /** The socket closed (exactly once). */
  | { readonly type: 'socket-closed'; readonly code: number }
  /** A timer armed with `arm` ran out. */
  | { readonly type: 'timer'; readonly timer: ConnectionTimer }
  /** `lookup-token`'s answer: the identity's token, or none. */
  | { readonly type: 'token'; readonly token: string | undefined }
  /**
   * `admit`'s answer, or the gate's later one to a held admission: `undefined` to let the viewer
   * identify, or why not.
   */
  | { readonly type: 'admission'; readonly refusal: ViewerRefusal | undefined }
  /** `admit`'s answer: the gate holds the viewer: wait up to `hold.holdMs` for an `admission`. */
  | { readonly type: 'admission-held'; readonly hold: ViewerHold }
  /** `count`'s answer: the counter after adding the cost. */
  | { readonly type: 'counted'; readonly value: number }
  /** `join`'s answer: the fan-out delivers the joined channels' live events. */
  | { readonly type: 'joined' }
  /**
   * `read-history`'s answer: each channel's stored events, in the effect's channel order, and
   * with `heads`, each channel's newest position, read before its events.
   */
  | {
      readonly type: 'history'
      readonly events: readonly (readonly [channel: string, events: EventsById])[]
      readonly heads?: readonly (Position | undefined)[]
      /** Each channel's resume floor (a relay's gate, see `ReplayInput.floor`). */
      readonly floors?: readonly (Position | undefined)[]
    }
  /** A store call failed (`error` is a description for the log, never a token). */
  | { readonly type: 'store-failed'; readonly error: string }
  /**
   * The interpreter could not step an input: a bug of the machine's (`error` names the
   * exception's kind only, never its message, which may quote the client's text). `closed`: the
   * input was the socket's close (its code), which the socket never reports again.
   */
  | { readonly type: 'fault'; readonly error: string; readonly closed?: number }
  /** A live event on a joined channel. */
  | { readonly type: 'live'; readonly eid: string; readonly event: EncodedEvent }
  /** The writer gave up on a slow peer. */
  | { readonly type: 'overflow'; readonly overflow: Overflow }
  /** Live delivery may have lost events (the store's pub/sub dropped): make the client resume. */
  | { readonly type: 'interrupt' }
  /** The server shuts down. */
  | { readonly type: 'shutdown'; readonly code: number }
  /** The shutdown grace ran out. */
  | { readonly type: 'terminate' }
  /** Relay mode: a control payload about the upstream. */
  | { readonly type: 'tell'; readonly code: string; readonly detail: string }
  /** Relay mode: a control payload, then a close (the upstream failed). */
  | { readonly type: 'refuse'; readonly refusal: ViewerRefusal }

/** A control payload to encode (the interpreter adds the clock's `ts`). */
export interface ControlPayload {
  readonly code: string
  readonly detail: string
  readonly remaining: number
  /** `resume` only: each channel's outcome (core's `ResumeCode`). */
  readonly channels?: Readonly<Record<string, ResumeOutcome>>
}

/** What the interpreter does after a step, in order. */
export type ConnectionEffect =
  /** Queue a control payload. */
  | ({ readonly type: 'send-control' } & ControlPayload)
  /** Queue events to go out together (a replay); count them as delivered. */
  | { readonly type: 'send-events'; readonly events: readonly EncodedEvent[] }
  /** Queue one live event; count it as delivered. */
  | { readonly type: 'send-event'; readonly event: EncodedEvent }
  /** Keep a live event until `release`. */
  | { readonly type: 'hold'; readonly eid: string; readonly event: EncodedEvent }
  /** Queue every held event, in order, except those in `skip` (already replayed); count them as delivered. */
  | { readonly type: 'release'; readonly skip: ReadonlySet<string> }
  /**
   * Write the control payloads still queued, drop queued events, send `control` when given,
   * then a close frame with `code` and `reason`.
   */
  | { readonly type: 'close'; readonly code: number; readonly reason: string; readonly control?: ControlPayload }
  /** Drop the socket without a close frame. */
  | { readonly type: 'terminate' }
  /** Send a ping. */
  | { readonly type: 'ping' }
  /** Start (or restart) a timer. */
  | { readonly type: 'arm'; readonly timer: ConnectionTimer; readonly ms: number }
  /** Stop a timer. */
  | { readonly type: 'cancel'; readonly timer: ConnectionTimer }
  /** Look up the identity's token; answer with `token`. */
  | { readonly type: 'lookup-token'; readonly kind: IdentityKind; readonly id: string }
  /** Relay mode: ask the viewer gate; answer with `admission`. */
  | { readonly type: 'admit'; readonly kind: IdentityKind; readonly id: string }
  /** Add `cost` to the store's counter `key` (window `windowMs`); answer with `counted`. */
  | { readonly type: 'count'; readonly key: string; readonly cost: number; readonly windowMs: number }
  /** Join these channels on the fan-out; answer with `joined`. */
  | { readonly type: 'join'; readonly channels: readonly string[] }
  /**
   * Read the stored events of `channels` for a `send_all` replay; answer with `history`. With
   * `heads`, first each channel's newest position (the store's `headOf`), for a resume after a
   * position. The whole identify comes along.
   */
  | { readonly type: 'read-history'; readonly request: IdentifyRequest; readonly channels: readonly string[]; readonly heads: boolean }
  /** Leave these channels on the fan-out. */
  | { readonly type: 'leave'; readonly channels: readonly string[] }
  /** Relay mode: tell the viewer gate that this viewer joined, or left. */
  | { readonly type: 'viewer'; readonly joined: boolean; readonly kind: IdentityKind; readonly id: string }
  /** Relay mode: tell the viewer gate that this viewer waits on the hold it answered. */
  | { readonly type: 'held'; readonly kind: IdentityKind; readonly id: string }
  /** Relay mode: tell the viewer gate that this held viewer went before it joined (`turnedAway`: its hold ran out). */
  | { readonly type: 'unheld'; readonly kind: IdentityKind; readonly id: string; readonly turnedAway: boolean }
  /** Drop everything queued for the socket. */
  | { readonly type: 'discard' }
  /** The connection is over: the server forgets it, `done` settles. */
  | { readonly type: 'forget' }
  /** Metrics: an identify ended with `outcome` (`ready` or the refusal's code). */
  | { readonly type: 'identified'; readonly outcome: string }
  /** Metrics: the connection closed with `code`. */
  | { readonly type: 'closed'; readonly code: number }
  /** Metrics: the store failed. */
  | { readonly type: 'store-failed' }
  /** Metrics: a resume after positions: each channel's outcome. */
  | { readonly type: 'resumed'; readonly outcomes: readonly ResumeOutcome[] }
  /** A log line (the interpreter prefixes the connection's name). */
  | { readonly type: 'log'; readonly level: 'info' | 'error'; readonly line: string }

/** The result of one {@link step}. */
export interface ConnectionStep {
  readonly state: ConnectionMachineState
  readonly effects: readonly ConnectionEffect[]
}

/** How long a slow reader closed with 1008 may take to read its close before it is dropped (milliseconds). */
export const SlowReaderLingerMs = 1_000

/** The close code and reason for a reader too slow for its byte limit: a policy violation. */
export const SlowReaderClose = Object.freeze({
  code: 1008,
  reason: (limit: number): string => `Send queue over ${limit} bytes: reading too slowly`,
})

/** The reason text of every close code the server sends: the protocol's and a relay's. */
const CloseReasons: Readonly<Record<number, { readonly reason: string } | undefined>> = Object.freeze({ ...CloseInfo, ...RelayCloseInfo })

const reasonOf = (code: number): string => CloseReasons[code]?.reason ?? ''

/** A connection that has just opened (before {@link open}'s effects ran). */
const Fresh: ConnectionMachineState = Object.freeze({
  phase: 'waiting',
  awaiting: undefined,
  request: undefined,
  joined: Object.freeze([]) as readonly string[],
  holding: false,
  backlog: 0,
  requests: 0,
  remaining: Protocol.unidentifiedRequestsRemaining,
  viewing: false,
  held: undefined,
})

/** The first step of every connection: the identity prompt and the timers. */
export function open(rules: ConnectionRules): ConnectionStep {
  const effects: ConnectionEffect[] = [
    { type: 'send-control', code: ControlCode.Identity, detail: ControlDetail.identity, remaining: Protocol.unidentifiedRequestsRemaining },
  ]
  if (rules.identifyTimeoutMs > 0) effects.push({ type: 'arm', timer: 'identify', ms: rules.identifyTimeoutMs })
  effects.push({ type: 'arm', timer: 'ping', ms: rules.pingIntervalMs }, { type: 'arm', timer: 'dead', ms: rules.pongTimeoutMs })
  return { state: Fresh, effects }
}

/** Whether the connection still takes part in the protocol (no close sent or seen). */
const active = (state: ConnectionMachineState): boolean => state.phase !== 'closing' && state.phase !== 'closed'

/**
 * A connection's protocol decisions, sans I/O: what the client sent, what the store answered,
 * timers and relay calls go in; what to send, ask, arm and close comes out. Messages are handled
 * one at a time, in order, as the original's read loop did: a store answer for a connection that
 * closed meanwhile, or one it no longer waits for, changes nothing.
 */
export function step(state: ConnectionMachineState, input: ConnectionInput, rules: ConnectionRules): ConnectionStep {
  switch (input.type) {
    case 'message': {
      if (!active(state)) return { state, effects: [] }
      const alive: ConnectionEffect = { type: 'arm', timer: 'dead', ms: rules.pongTimeoutMs }
      if (state.phase === 'waiting') return identify(state, input.data, rules, [alive])
      if (state.phase === 'ready' && state.awaiting === undefined) return countMessage(state, rules, [alive])
      // Identifying, or still counting an earlier message: this one waits its turn.
      return { state: { ...state, backlog: state.backlog + 1 }, effects: [alive] }
    }
    case 'pong':
      return { state, effects: state.phase === 'closed' ? [] : [{ type: 'arm', timer: 'dead', ms: rules.pongTimeoutMs }] }
    case 'timer':
      return timer(state, input.timer, rules)
    case 'token': {
      if (state.phase !== 'identifying' || state.awaiting !== 'token' || state.request === undefined) return { state, effects: [] }
      const { request } = state
      if (!sameSecret(input.token, request.token)) {
        return reject({ ...state, awaiting: undefined }, ControlCode.InvalidAuth, ServerDetail.noRows, Protocol.unidentifiedRequestsRemaining, CloseCode.InvalidAuthentication)
      }
      if (rules.relay) {
        return { state: { ...state, awaiting: 'admission' }, effects: [{ type: 'admit', kind: request.kind, id: request.id }] }
      }
      return countIdentify(state, rules)
    }
    case 'admission': {
      if (state.phase !== 'identifying' || state.awaiting !== 'admission') return { state, effects: [] }
      const { refusal } = input
      const effects: ConnectionEffect[] = state.held === undefined ? [] : [{ type: 'cancel', timer: 'admission' }]
      if (refusal === undefined) {
        const counting = countIdentify(state, rules)
        return { state: counting.state, effects: [...effects, ...counting.effects] }
      }
      // A refusal ends a hold: the gate that refused has let go of the viewer.
      const refused = refuse({ ...state, awaiting: undefined, held: undefined }, refusal)
      return { state: refused.state, effects: [...effects, ...refused.effects] }
    }
    case 'admission-held': {
      if (state.phase !== 'identifying' || state.awaiting !== 'admission' || state.held !== undefined || state.request === undefined) return { state, effects: [] }
      const { hold } = input
      // The identify stays unanswered: `ready` comes with the gate's `admission`, and the
      // client's own ready timeout is the gate's to stay under (`holdMs`).
      return {
        state: { ...state, held: hold },
        effects: [
          { type: 'log', level: 'info', line: `admission held (${hold.holdMs} ms at most)` },
          { type: 'arm', timer: 'admission', ms: hold.holdMs },
          { type: 'held', kind: state.request.kind, id: state.request.id },
        ],
      }
    }
    case 'counted':
      if (state.awaiting !== 'count' || (state.phase !== 'identifying' && state.phase !== 'ready')) return { state, effects: [] }
      return counted({ ...state, awaiting: undefined }, input.value, rules, [])
    case 'joined': {
      if (state.phase !== 'identifying' || state.awaiting !== 'join' || state.request === undefined) return { state, effects: [] }
      const { request } = state
      if (!request.sendAll) return ready({ ...state, awaiting: undefined }, undefined, rules)
      const channels = [channelOf(request.kind, request.id), GlobalChannel]
      const heads = request.after !== undefined
      return { state: { ...state, awaiting: 'history' }, effects: [{ type: 'read-history', request, channels, heads }] }
    }
    case 'history':
      if (state.phase !== 'identifying' || state.awaiting !== 'history') return { state, effects: [] }
      return ready({ ...state, awaiting: undefined }, input.events, rules, input.heads, input.floors)
    case 'store-failed': {
      if (!active(state)) return { state, effects: [] }
      const closing = close({ ...state, awaiting: undefined }, CloseCode.InternalError)
      return {
        state: closing.state,
        effects: [{ type: 'log', level: 'error', line: `store failed: ${input.error}` }, { type: 'store-failed' }, ...closing.effects],
      }
    }
    case 'fault': {
      // One connection's fault must cost that connection, not the process and every other one.
      // Its socket already closed: let go of it as its close would have (no close to send).
      if (input.closed !== undefined) {
        const gone = socketClosed(state, input.closed)
        return { state: gone.state, effects: [{ type: 'log', level: 'error', line: `internal error at the close: ${input.error}` }, ...gone.effects] }
      }
      if (!active(state)) return { state, effects: [] }
      const closing = close({ ...state, awaiting: undefined }, CloseCode.InternalError)
      return { state: closing.state, effects: [{ type: 'log', level: 'error', line: `internal error, the connection is closed: ${input.error}` }, ...closing.effects] }
    }
    case 'live':
      if (state.holding) return { state, effects: [{ type: 'hold', eid: input.eid, event: input.event }] }
      if (state.phase === 'ready') return { state, effects: [{ type: 'send-event', event: input.event }] }
      return { state, effects: [] }
    case 'overflow': {
      if (!active(state)) return { state, effects: [] }
      const { overflow } = input
      // Either way the peer may not read its close either: drop it soon, so its buffers are
      // freed (ws would otherwise wait 30 s for the close's answer).
      const linger: ConnectionEffect = { type: 'arm', timer: 'linger', ms: SlowReaderLingerMs }
      if (overflow.type === 'events') {
        const closing = close(state, CloseCode.InternalError)
        return { state: closing.state, effects: [{ type: 'log', level: 'info', line: `cannot keep up (over ${overflow.limit} events queued)` }, ...closing.effects, linger] }
      }
      const closing = close(state, SlowReaderClose.code, undefined, SlowReaderClose.reason(overflow.limit))
      return {
        state: closing.state,
        effects: [{ type: 'log', level: 'info', line: `cannot keep up (over ${overflow.limit} bytes queued): closed with ${SlowReaderClose.code}` }, ...closing.effects, linger],
      }
    }
    case 'interrupt':
      if (state.phase !== 'identifying' && state.phase !== 'ready') return { state, effects: [] }
      return close(state, CloseCode.InternalError)
    case 'shutdown':
      return close(state, input.code)
    case 'terminate':
      return { state, effects: state.phase === 'closed' ? [] : [{ type: 'terminate' }] }
    case 'tell':
      if (state.phase !== 'ready') return { state, effects: [] }
      return { state, effects: [{ type: 'send-control', code: input.code, detail: input.detail, remaining: state.remaining }] }
    case 'refuse':
      if (state.phase !== 'ready' && state.phase !== 'identifying') return { state, effects: [] }
      // A held viewer refused (its upstream failed): the gate that refused has let go of it.
      return refuse({ ...state, held: undefined }, input.refusal)
    case 'socket-closed':
      return socketClosed(state, input.code)
  }
}

function timer(state: ConnectionMachineState, name: ConnectionTimer, rules: ConnectionRules): ConnectionStep {
  if (state.phase === 'closed') return { state, effects: [] }
  switch (name) {
    case 'identify': {
      if (state.phase !== 'waiting') return { state, effects: [] }
      const closing = close(state, CloseCode.InvalidConnection)
      return { state: closing.state, effects: [{ type: 'log', level: 'info', line: `did not identify within ${rules.identifyTimeoutMs} ms` }, ...closing.effects] }
    }
    case 'ping':
      return { state, effects: [{ type: 'ping' }, { type: 'arm', timer: 'ping', ms: rules.pingIntervalMs }] }
    case 'dead': {
      const line: ConnectionEffect = { type: 'log', level: 'info', line: `silent for ${rules.pongTimeoutMs} ms: dropped` }
      if (!active(state)) return { state, effects: [line, { type: 'terminate' }] }
      // The original's read deadline ran out: its read loop closed with 4000 (`InvalidConn`),
      // then the socket. A peer that reads gets the close; one that does not is dropped soon.
      const closing = close(state, CloseCode.InvalidConnection)
      return { state: closing.state, effects: [line, ...closing.effects, { type: 'arm', timer: 'linger', ms: SlowReaderLingerMs }] }
    }
    case 'done-prior':
      if (state.phase !== 'ready') return { state, effects: [] }
      return { state, effects: [{ type: 'send-control', code: ControlCode.DonePrior, detail: ControlDetail.donePrior, remaining: state.remaining }] }
    case 'linger':
      return { state, effects: [{ type: 'terminate' }] }
    case 'admission': {
      const { held, request } = state
      if (state.phase !== 'identifying' || state.awaiting !== 'admission' || held === undefined || request === undefined) return { state, effects: [] }
      // Turned away as a viewer that is not held would be; the gate counts it no more.
      const refused = refuse({ ...state, awaiting: undefined, held: undefined }, held.refusal)
      return {
        state: refused.state,
        effects: [{ type: 'unheld', kind: request.kind, id: request.id, turnedAway: true }, ...refused.effects],
      }
    }
  }
}

/** The identify arrived: parse it, then ask the store for the token. */
function identify(state: ConnectionMachineState, data: string | Uint8Array, rules: ConnectionRules, effects: ConnectionEffect[]): ConnectionStep {
  const identifying: ConnectionMachineState = { ...state, phase: 'identifying' }
  effects.push({ type: 'cancel', timer: 'identify' })
  const parsed = parseIdentify(data, rules.positions === true)
  if (either.isLeft(parsed)) {
    const rejected = reject(identifying, ControlCode.InvalidPayload, parsed.left, Protocol.unidentifiedRequestsRemaining, CloseCode.InvalidAuthentication)
    return { state: rejected.state, effects: [...effects, ...rejected.effects] }
  }
  const request = parsed.right
  effects.push({ type: 'lookup-token', kind: request.kind, id: request.id })
  return { state: { ...identifying, request, awaiting: 'token' }, effects }
}

/** The token checked out (and a relay admitted the viewer): count the identify. */
function countIdentify(state: ConnectionMachineState, rules: ConnectionRules): ConnectionStep {
  const request = state.request as IdentifyRequest
  if (rules.relay) {
    const requests = state.requests + rules.identifyCost
    return counted({ ...state, awaiting: undefined, requests }, requests, rules, [])
  }
  return {
    state: { ...state, awaiting: 'count' },
    effects: [{ type: 'count', key: rateKey(request.kind, request.id), cost: rules.identifyCost, windowMs: rules.rateWindowMs }],
  }
}

/** A later message costs `messageCost` (messages beyond identify do nothing else). */
function countMessage(state: ConnectionMachineState, rules: ConnectionRules, effects: ConnectionEffect[]): ConnectionStep {
  if (rules.relay) {
    const requests = state.requests + rules.messageCost
    return counted({ ...state, requests }, requests, rules, effects)
  }
  const request = state.request as IdentifyRequest
  effects.push({ type: 'count', key: rateKey(request.kind, request.id), cost: rules.messageCost, windowMs: rules.rateWindowMs })
  return { state: { ...state, awaiting: 'count' }, effects }
}

/** The ratelimit counter is `value` after an identify (while identifying) or a later message (while ready). */
function counted(state: ConnectionMachineState, value: number, rules: ConnectionRules, effects: ConnectionEffect[]): ConnectionStep {
  const remaining = rules.rateLimit - value
  const next: ConnectionMachineState = { ...state, remaining }
  if (value > rules.rateLimit) {
    const rejected = reject(next, ControlCode.Ratelimited, ControlDetail.ratelimited(value), remaining, CloseCode.Ratelimited)
    return { state: rejected.state, effects: [...effects, ...rejected.effects] }
  }
  if (state.phase === 'ready') return next.backlog > 0 ? countMessage({ ...next, backlog: next.backlog - 1 }, rules, effects) : { state: next, effects }
  const request = state.request as IdentifyRequest
  // Live events are held from the join until `ready` (and the replay) are queued, so they come after.
  const joined = request.sendNone ? [] : [channelOf(request.kind, request.id), GlobalChannel]
  effects.push({ type: 'join', channels: joined })
  return { state: { ...next, awaiting: 'join', joined, holding: true }, effects }
}

/** Identified: `ready`, the replay and `done_prior` when asked for, then the held live events. */
function ready(
  state: ConnectionMachineState,
  prior: readonly (readonly [string, EventsById])[] | undefined,
  rules: ConnectionRules,
  heads?: readonly (Position | undefined)[],
  floors?: readonly (Position | undefined)[],
): ConnectionStep {
  const request = state.request as IdentifyRequest
  const count = rules.rateLimit - state.remaining
  const effects: ConnectionEffect[] = [
    {
      type: 'log',
      level: 'info',
      line: `identified as ${request.kind} ${request.id}${request.sendAll ? ' (send_all)' : ''}${request.sendNone ? ' (send_none)' : ''}, ${state.remaining} requests remaining`,
    },
    { type: 'identified', outcome: ControlCode.Ready },
    { type: 'send-control', code: ControlCode.Ready, detail: ControlDetail.ready(count), remaining: state.remaining },
  ]
  const replayed = new Set<string>()
  if (prior !== undefined) {
    const texts: EncodedEvent[] = []
    const { after } = request
    const outcomes: Record<string, ResumeOutcome> = {}
    for (const [index, [channel, events]] of prior.entries()) {
      // Exact after the client's position when the store vouches for it; else the whole
      // history in m.ts order (a store keys events by eid in no useful order).
      const plan = planReplay({ stored: events, after: after?.[channel], head: heads?.[index], floor: floors?.[index], positioned: rules.positions === true })
      outcomes[channel] = plan.outcome
      for (const [eid, event] of plan.events) {
        replayed.add(eid)
        texts.push(encodeEvent(channel, event))
      }
    }
    // Only to a client that sent positions: the original never sent it, and others never see it.
    if (after !== undefined) {
      const detail = Object.entries(outcomes)
        .map(([channel, outcome]) => `${channel}: ${outcome === 'exact' ? 'exact' : ResumeReasons[outcome]}`)
        .join(' ')
      effects.push(
        { type: 'send-control', code: ResumeCode, detail, remaining: state.remaining, channels: outcomes },
        { type: 'resumed', outcomes: Object.values(outcomes) },
      )
    }
    if (texts.length > 0) effects.push({ type: 'send-events', events: texts })
    effects.push({ type: 'arm', timer: 'done-prior', ms: rules.donePriorDelayMs })
  }
  effects.push({ type: 'release', skip: replayed })
  let next: ConnectionMachineState = { ...state, phase: 'ready', holding: false }
  if (rules.relay) {
    // A held viewer joins too: the gate counts it among the joined from now on.
    effects.push({ type: 'viewer', joined: true, kind: request.kind, id: request.id })
    next = { ...next, viewing: true, held: undefined }
  }
  if (next.backlog > 0) return countMessage({ ...next, backlog: next.backlog - 1 }, rules, effects)
  return { state: next, effects }
}

/** Refuses an identify or a later message with a control payload and a close. */
function reject(state: ConnectionMachineState, code: string, detail: string, remaining: number, closeCode: number): ConnectionStep {
  const effects: ConnectionEffect[] = []
  if (state.phase === 'identifying') effects.push({ type: 'identified', outcome: code })
  effects.push({ type: 'log', level: 'info', line: `rejected: ${code} → ${closeCode}` })
  const closing = close(state, closeCode, { code, detail, remaining })
  return { state: closing.state, effects: [...effects, ...closing.effects] }
}

/**
 * Relay mode: a control payload, then the close the refusal names; an identify that ends so is
 * counted with the refusal's code.
 */
function refuse(state: ConnectionMachineState, refusal: ViewerRefusal): ConnectionStep {
  const effects: ConnectionEffect[] = state.phase === 'identifying' ? [{ type: 'identified', outcome: refusal.code }] : []
  effects.push({ type: 'log', level: 'info', line: `refused: ${refusal.code} → ${refusal.closeCode}` })
  const closing = close(state, refusal.closeCode, { code: refusal.code, detail: refusal.detail, remaining: state.remaining }, refusal.reason)
  return { state: closing.state, effects: [...effects, ...closing.effects] }
}

/** Sends a close (once): after the payload when one is given; nothing more is handled. */
function close(state: ConnectionMachineState, code: number, control?: ControlPayload, reason?: string): ConnectionStep {
  if (!active(state)) return { state, effects: [] }
  const effect: ConnectionEffect = { type: 'close', code, reason: reason ?? reasonOf(code), ...(control === undefined ? {} : { control }) }
  return { state: { ...state, phase: 'closing', holding: false }, effects: [effect] }
}

/** The socket closed: stop every timer, leave every channel, tell the server. */
function socketClosed(state: ConnectionMachineState, code: number): ConnectionStep {
  if (state.phase === 'closed') return { state, effects: [] }
  const effects: ConnectionEffect[] = ConnectionTimers.map((timer) => ({ type: 'cancel', timer }))
  effects.push({ type: 'discard' })
  if (state.joined.length > 0) effects.push({ type: 'leave', channels: state.joined })
  if (state.viewing && state.request !== undefined) effects.push({ type: 'viewer', joined: false, kind: state.request.kind, id: state.request.id })
  // Held and gone before it joined: the gate lets go of it, and it costs nothing.
  if (state.held !== undefined && state.request !== undefined) effects.push({ type: 'unheld', kind: state.request.kind, id: state.request.id, turnedAway: false })
  effects.push({ type: 'closed', code }, { type: 'log', level: 'info', line: `closed ${code}` }, { type: 'forget' })
  return {
    state: { ...state, phase: 'closed', awaiting: undefined, joined: [], holding: false, viewing: false, held: undefined, backlog: 0 },
    effects,
  }
}
