import type { ControlPayload, FatesEvent, ReceivedEvent, WrappedEvent } from '../codec/codecs.js'
import type { ContextOf } from '../codec/contexts.js'
import { ControlCode, ControlDetail } from '../protocol/control.js'
import { Protocol } from '../protocol/limits.js'
import { goJson, goString } from '../codec/go-json.js'

// Builders of wire payloads for tests. They take their codes, detail texts and numbers from
// the protocol tables, so a test written with them tracks the protocol instead of a copy of it.

/** Fields a test may set on a control payload; the rest come from the protocol tables. */
export interface ControlPayloadFields {
  /**
   * The human-readable text.
   * @default the original server's text for known codes, else `''`
   */
  readonly detail?: string
  /**
   * `requests_remaining`.
   * @default Protocol.rateLimit (a fresh budget)
   */
  readonly requestsRemaining?: number
  /**
   * Unix seconds.
   * @default 1700000000
   */
  readonly ts?: number
  /** The channel a later server version named (optional on the wire). */
  readonly chan?: string
}

/** The `ts` every builder uses unless told otherwise: fixed, so that tests are repeatable. */
export const FixedUnixSeconds = 1_700_000_000

/**
 * A control payload as the server sends it (`control: true`), for any code, known or not.
 *
 * @example
 * controlPayload('ready', { requestsRemaining: 18 })
 */
export function controlPayload(code: string, fields: ControlPayloadFields = {}): ControlPayload {
  return {
    code,
    detail: fields.detail ?? '',
    ts: fields.ts ?? FixedUnixSeconds,
    requests_remaining: fields.requestsRemaining ?? Protocol.rateLimit,
    control: true,
    ...(fields.chan === undefined ? {} : { chan: fields.chan }),
  }
}

/** The `identity` payload that opens every session (`requests_remaining: -1`). */
export function identityPayload(fields: Omit<ControlPayloadFields, 'requestsRemaining'> = {}): ControlPayload {
  return controlPayload(ControlCode.Identity, {
    detail: ControlDetail.identity,
    ...fields,
    requestsRemaining: Protocol.unidentifiedRequestsRemaining,
  })
}

/**
 * The `ready` payload after an identify; `made` is the ratelimit counter after it.
 *
 * @param made Requests counted in the window so far, this identify included; a first identify
 *   by default.
 */
export function readyPayload(made: number = Protocol.identifyCost, fields: Omit<ControlPayloadFields, 'requestsRemaining'> = {}): ControlPayload {
  return controlPayload(ControlCode.Ready, {
    detail: ControlDetail.ready(made),
    ...fields,
    requestsRemaining: Protocol.rateLimit - made,
  })
}

/**
 * The `done_prior` payload that ends a `send_all` replay.
 *
 * @param made The ratelimit counter, as in the `ready` before it.
 */
export function donePriorPayload(made: number = Protocol.identifyCost, fields: Omit<ControlPayloadFields, 'requestsRemaining'> = {}): ControlPayload {
  return controlPayload(ControlCode.DonePrior, {
    detail: ControlDetail.donePrior,
    ...fields,
    requestsRemaining: Protocol.rateLimit - made,
  })
}

/** The `invalid_auth` payload the server sends before closing with 4004. */
export function invalidAuthPayload(fields: ControlPayloadFields = {}): ControlPayload {
  return controlPayload(ControlCode.InvalidAuth, {
    detail: 'no rows in result set',
    requestsRemaining: Protocol.unidentifiedRequestsRemaining,
    ...fields,
  })
}

/** The `invalid_payload` payload the server sends before closing with 4004. */
export function invalidPayloadPayload(detail: string, fields: Omit<ControlPayloadFields, 'detail'> = {}): ControlPayload {
  return controlPayload(ControlCode.InvalidPayload, {
    requestsRemaining: Protocol.unidentifiedRequestsRemaining,
    ...fields,
    detail,
  })
}

/**
 * The `ratelimited` payload the server sends before closing with 4012; `made` is the counter
 * after the rejected request (so `requests_remaining` is negative); by default that of an
 * 11th identify in one window.
 */
export function ratelimitedPayload(made: number = Protocol.rateLimit + Protocol.identifyCost, fields: Omit<ControlPayloadFields, 'requestsRemaining'> = {}): ControlPayload {
  return controlPayload(ControlCode.Ratelimited, {
    detail: ControlDetail.ratelimited(made),
    ...fields,
    requestsRemaining: Protocol.rateLimit - made,
  })
}

/** Metadata a test may set on an event; `e` comes from the event name argument. */
export interface EventMetaFields {
  /**
   * The event ID.
   * @default a new UUID from {@link testEventId}
   */
  readonly eid?: string
  /**
   * Unix seconds (a float).
   * @default 1700000000
   */
  readonly ts?: number
  /**
   * The event type.
   * @default -1
   */
  readonly t?: number | readonly number[]
  /** The target bot or user. */
  readonly id?: string | null
  /** The webhook type. */
  readonly wt?: number
}

let nextEventId = 1

/**
 * A valid, distinct UUID for each call (a fixed prefix and a counter), so that tests can tell
 * events apart and a failure message stays readable.
 *
 * @example
 * testEventId() // '00000000-0000-4000-8000-000000000001'
 */
export function testEventId(): string {
  return `00000000-0000-4000-8000-${(nextEventId++).toString(16).padStart(12, '0')}`
}

/**
 * An event as the server's `dat` holds it. `ctx` is typed by the event name, so a vote
 * needs `{ user, votes }`.
 *
 * @example
 * fatesEvent(EventName.BotVote, { user: '563808552288780322', votes: 57, test: false })
 */
export function fatesEvent<E extends number>(e: E, ctx: ContextOf<E>, meta: EventMetaFields = {}): FatesEvent {
  const { t, ...rest } = meta
  return {
    m: {
      e,
      eid: meta.eid ?? testEventId(),
      ts: meta.ts ?? FixedUnixSeconds,
      t: t === undefined ? -1 : typeof t === 'number' ? t : [...t],
      ...('id' in rest ? { id: rest.id ?? null } : {}),
      ...(rest.wt === undefined ? {} : { wt: rest.wt }),
    },
    ctx: ctx as FatesEvent['ctx'],
  }
}

/**
 * An event wrapped as the original server sent it: `{chan, code: "event", control: false,
 * dat, detail: null}`.
 *
 * @param chan The channel, e.g. `bot-<id>`; a bot's channel by default.
 */
export function wrapEvent(event: FatesEvent, chan = 'bot-811073947382579200'): WrappedEvent {
  return { chan, code: 'event', control: false, dat: event, detail: null }
}

/** A payload for {@link joinFrames}: an object (serialized as JSON) or JSON text. */
export type FramePart = object | string

/**
 * A payload as the server writes it (codec/go-json.ts, the server's writer): a control payload
 * in its struct's field order, anything else (an event) with its keys sorted as Go sorted them;
 * strings escaped as Go escaped them.
 */
const text = (part: FramePart): string => {
  if (typeof part === 'string') return part
  if ((part as { control?: unknown }).control !== true) return goJson(part)
  const fields = Object.entries(part).filter(([, value]) => value !== undefined)
  return `{${fields.map(([key, value]) => `${goString(key)}:${goJson(value)}`).join(',')}}`
}

/**
 * One text frame holding the given payloads the way the server's writer batches them: the
 * first then `\x1f`, each further one as `\x1f` + payload + `\x1f`. A single control payload
 * is sent alone with no separator, as the server does.
 *
 * @example
 * joinFrames(wrapEvent(a), wrapEvent(b)) // 'A\x1f\x1fB\x1f'
 * joinFrames(readyPayload())             // '{"code":"ready",…}'
 */
export function joinFrames(...parts: readonly FramePart[]): string {
  if (parts.length === 0) throw new TypeError('joinFrames() needs at least one payload')
  const [only] = parts
  if (parts.length === 1 && typeof only === 'object' && (only as { control?: unknown }).control === true) {
    return text(only)
  }
  return parts.map(text).join(Protocol.separator + Protocol.separator) + Protocol.separator
}

/** Fields `connect()` adds beside an event it delivers. */
export interface ReceivedFields {
  /** The channel it arrived on. */
  readonly chan?: string
  /** `true` for an event replayed by `sendAll`. */
  readonly prior?: boolean
}

/**
 * An event as `event$` delivers it, for feeding code under test without a socket (see
 * `fakeClient`).
 */
export function receivedEvent(event: FatesEvent, fields: ReceivedFields = {}): ReceivedEvent {
  return { ...event, ...fields }
}
