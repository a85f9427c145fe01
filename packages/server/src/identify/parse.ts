import { either } from 'fp-ts'
import { AfterLimits, IdentifyPayload, isSnowflakeId, MaxSnowflakeId, parsePosition, type Position } from '@fates-rx/core/protocol'
import { goQuote, goSyntaxError, topLevelMembers } from './go-json.js'

import type { IdentityKind } from '../stores/store.js'

export type { IdentityKind }

/** A well-formed identify, ready to be checked against the store. */
export interface IdentifyRequest {
  readonly kind: IdentityKind
  /** The ID as the canonical decimal string of the parsed integer (`"+5"` becomes `"5"`). */
  readonly id: string
  readonly token: string
  readonly sendAll: boolean
  readonly sendNone: boolean
  /**
   * With positions on: per channel, the position of the newest event the client delivered
   * (the identify's `after`), to resume exactly after it. Absent when it sent none.
   */
  readonly after?: Readonly<Record<string, Position>>
}

/**
 * The `invalid_payload` details of a malformed `after`. None echoes what was sent: a detail
 * is read by people and logs, and `after` is the client's text.
 */
export const AfterError = Object.freeze({
  shape: 'invalid after: expected an object of channel positions',
  size: `invalid after: at most ${AfterLimits.maxChannels} channels`,
  channel: 'invalid after: names a channel this identity does not receive',
  position: 'invalid after: a position is "<epoch>:<offset>"',
})

/** The original's Go struct, by JSON key: what type each field must have. */
const Fields = Object.freeze({
  id: 'string',
  token: 'string',
  bot: 'bool',
  send_all: 'bool',
  send_none: 'bool',
} as const satisfies Record<string, 'string' | 'bool'>)

type FieldName = keyof typeof Fields

/**
 * The Go struct the original decoded into (`types.WebsocketIdentifyPayload`, in its package
 * `types`): Go names it with its package where the value is the struct itself, without where it
 * names one of its fields.
 */
const GoStruct = 'WebsocketIdentifyPayload'
const GoPackage = 'types'

/** Go's int64, which the original parsed IDs into: its top is core's snowflake bound. */
const MaxInt64 = MaxSnowflakeId
const MinInt64 = -MaxSnowflakeId - 1n

/** Go's name for the kind of a decoded JSON value, as `UnmarshalTypeError` words it. */
function goKind(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'number':
      return 'number'
    case 'boolean':
      return 'bool'
    default:
      return 'object'
  }
}

/** A key as Go 1.18's field matching folds it for these five ASCII names (ſ is s, K is k). */
const goFold = (key: string): string => key.replace(/[A-Z\u017f\u212a]/g, (c) => (c === '\u017f' ? 's' : c === '\u212a' ? 'k' : c.toLowerCase()))

const matchesType = (value: unknown, type: 'string' | 'bool'): boolean =>
  type === 'string' ? typeof value === 'string' : typeof value === 'boolean'

/**
 * Go's `strconv.Atoi(s)` on a 64-bit server, as the original parsed the identify's ID
 * (paul-brtd/FatesList, `modules/infra/dragon/webserver/client.go`): an optional sign and
 * decimal digits, within int64. Returns the value or the error text Go would give (every error
 * of Atoi names Atoi, also where it hands a long string to ParseInt).
 */
export function goAtoi(s: string): either.Either<string, bigint> {
  const quoted = goQuote(s)
  // ParseUint checks overflow digit by digit: a leading run past 2^64-1 is ErrRange even when
  // a bad byte follows it (only reachable on Atoi's slow path, 19 bytes or more).
  const run = /^[+-]?(\d*)/.exec(s)?.[1] ?? ''
  if (s.length >= 19 && run !== '' && BigInt(run) > 0xffff_ffff_ffff_ffffn) return either.left(`strconv.Atoi: parsing ${quoted}: value out of range`)
  if (!/^[+-]?\d+$/.test(s)) return either.left(`strconv.Atoi: parsing ${quoted}: invalid syntax`)
  const value = BigInt(s)
  if (value > MaxInt64 || value < MinInt64) {
    return either.left(`strconv.Atoi: parsing ${quoted}: value out of range`)
  }
  return either.right(value)
}

/**
 * Parses an identify message the way the original did, in its order: JSON syntax, field types
 * (Go's decoder: keys matched case-insensitively, `null` leaves a field unset, unknown keys are
 * ignored), the ID as a 64-bit integer, then `id > 0` and a non-empty token. Left is the
 * `invalid_payload` detail. Unlike the original, no detail ever contains the token.
 *
 * With `positions` (the server stamps positions), the key `after` (exactly so, an addition of
 * this project's) is read last: per channel of this identity, a position to resume after
 * (`AfterError` when malformed). Without it, `after` is ignored as any unknown key is:
 * the original decoded the identify with `json.Unmarshal` into a struct of the five fields
 * (paul-brtd/FatesList, modules/infra/dragon/webserver/client.go and the struct
 * `WebsocketIdentifyPayload` in modules/infra/dragon/types/types.go), which skips keys the
 * struct does not name, so a client may send `after` to either server.
 *
 * @example
 * parseIdentify('{not json') // left("invalid character 'n' looking for beginning of object key string")
 */
export function parseIdentify(message: string | Uint8Array, positions = false): either.Either<string, IdentifyRequest> {
  const syntax = goSyntaxError(message)
  if (syntax !== undefined) return either.left(syntax)
  const text = typeof message === 'string' ? message : goDecodeUtf8(message)
  // Every member in order, repeats included, as Go's decoder applies them; a text that is no
  // object is parsed whole only to name what it is (`null` decodes to nothing, as in Go).
  const members = topLevelMembers(text)
  if (members === undefined) {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null) return either.left(`json: cannot unmarshal ${goKind(parsed)} into Go value of type ${GoPackage}.${GoStruct}`)
  }
  const fields: Partial<Record<FieldName, unknown>> = {}
  let typeError: string | undefined
  for (const [key, raw] of members ?? []) {
    // An exact key folds to itself.
    const name = (Object.keys(Fields) as FieldName[]).find((f) => f === goFold(key))
    if (name === undefined) continue
    const value: unknown = JSON.parse(raw)
    if (value === null) continue
    if (!matchesType(value, Fields[name])) {
      // Go keeps decoding after a type mismatch and reports the first one.
      typeError ??= `json: cannot unmarshal ${goKind(value)} into Go struct field ${GoStruct}.${name} of type ${Fields[name]}`
      continue
    }
    fields[name] = value
  }
  if (typeError !== undefined) return either.left(typeError)

  const payload = IdentifyPayload.decode({ id: '', token: '', ...fields })
  if (either.isLeft(payload)) return either.left('invalid identify payload')
  const { id, token, bot = false, send_all = false, send_none = false } = payload.right
  const number = goAtoi(id)
  if (either.isLeft(number)) return number
  // Go's Atoi accepted a sign and leading zeros ("+007"): the canonical form of what it
  // parsed must be core's snowflake, the rule every other part of the project checks.
  if (!isSnowflakeId(number.right.toString()) || token === '') {
    // The original appended "and api token of <token>": a secret in a log-friendly text.
    return either.left(`Invalid ID or token sent. Got ID of ${id}`)
  }
  const kind: IdentityKind = bot ? 'bot' : 'server'
  const request: IdentifyRequest = { kind, id: number.right.toString(), token, sendAll: send_all, sendNone: send_none }
  // This project's `after` (the original's struct has none): its last occurrence, as JSON.parse keeps.
  let afterText: string | undefined
  if (positions) for (const [key, raw] of members ?? []) if (key === 'after') afterText = raw
  const after: unknown = afterText === undefined ? undefined : JSON.parse(afterText)
  if (after === undefined || after === null) return either.right(request)
  const read = parseAfter(after, [`${kind}-${request.id}`, 'global'])
  return typeof read === 'string' ? either.left(read) : either.right({ ...request, after: read })
}

/** The identify's `after`, checked: positions by channel, or the {@link AfterError} detail. */
function parseAfter(after: unknown, channels: readonly string[]): Readonly<Record<string, Position>> | string {
  if (typeof after !== 'object' || after === null || Array.isArray(after)) return AfterError.shape
  const entries = Object.entries(after)
  if (entries.length > AfterLimits.maxChannels) return AfterError.size
  const read: Record<string, Position> = {}
  for (const [channel, text] of entries) {
    // Checked before it becomes a key: only this identity's channels, never `__proto__`.
    if (!channels.includes(channel)) return AfterError.channel
    const position = parsePosition(text)
    if (position === undefined) return AfterError.position
    read[channel] = position
  }
  return read
}

/**
 * The leading byte's sequence length and the range its second byte must fall in (UTF-8's
 * well-formed table), or length 0 for a byte that begins no sequence.
 */
function utf8Lead(b: number): readonly [length: number, low: number, high: number] {
  if (b >= 0xc2 && b <= 0xdf) return [2, 0x80, 0xbf]
  if (b === 0xe0) return [3, 0xa0, 0xbf]
  if (b === 0xed) return [3, 0x80, 0x9f]
  if (b >= 0xe1 && b <= 0xef) return [3, 0x80, 0xbf]
  if (b === 0xf0) return [4, 0x90, 0xbf]
  if (b >= 0xf1 && b <= 0xf3) return [4, 0x80, 0xbf]
  if (b === 0xf4) return [4, 0x80, 0x8f]
  return [0, 0, 0]
}

/**
 * Bytes as Go's decoder reads them: one U+FFFD for each byte `utf8.DecodeRune` rejects (size 1),
 * where `Buffer#toString` (WHATWG's rule) makes one of a truncated sequence. ws hands the
 * identify over unvalidated (`skipUTF8Validation`), so the detail quoting a bad id follows Go.
 */
function goDecodeUtf8(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    if (b < 0x80) {
      out += String.fromCharCode(b)
      i++
      continue
    }
    const [length, low, high] = utf8Lead(b)
    let whole = length > 0 && i + length <= bytes.length
    for (let k = 1; whole && k < length; k++) {
      const c = bytes[i + k] as number
      whole = k === 1 ? c >= low && c <= high : c >= 0x80 && c <= 0xbf
    }
    if (!whole) {
      out += '\ufffd'
      i++
      continue
    }
    out += Buffer.from(bytes.subarray(i, i + length)).toString('utf8')
    i += length
  }
  return out
}
