import type { ControlPayload, FatesEvent, WrappedEvent } from '../codec/index.js'

// The codecs' `is`, compiled by hand for the hot path: each guard accepts exactly the
// `JSON.parse` output its codec's `is` accepts (a property test holds each equal to its codec),
// so decoding needs no io-ts and connect() carries none up front; the codecs stay the
// definition, and explain what a guard rejects. io-ts `is` walks nested intersections and unions
// through a dozen closures per event, about a third of a `JSON.parse`; these are a handful of
// inlined property reads. They only see `JSON.parse` output, where "a plain object" is "an
// object that is not an array".

type Json = Record<string, unknown>

const isObject = (u: unknown): u is Json => typeof u === 'object' && u !== null && !Array.isArray(u)

const isOptionalString = (u: unknown): boolean => u === undefined || typeof u === 'string'

function isType(t: unknown): boolean {
  if (t === undefined || Number.isSafeInteger(t)) return true
  if (!Array.isArray(t)) return false
  for (const item of t) if (!Number.isSafeInteger(item)) return false
  return true
}

function isMeta(m: unknown): boolean {
  if (!isObject(m)) return false
  const id = m['id']
  const ts = m['ts']
  const wt = m['wt']
  return (
    Number.isSafeInteger(m['e']) &&
    isOptionalString(m['eid']) &&
    (ts === undefined || typeof ts === 'number') &&
    isType(m['t']) &&
    (id === undefined || id === null || typeof id === 'string' || typeof id === 'number') &&
    (wt === undefined || Number.isSafeInteger(wt))
  )
}

/** `FatesEvent.is`, on `JSON.parse` output. */
export function looksLikeEvent(u: Json): u is Json & FatesEvent {
  return isObject(u['ctx']) && isMeta(u['m'])
}

/** `WrappedEvent.is`, on `JSON.parse` output whose `code` is `"event"` (checked by the caller). */
export function looksLikeWrappedEvent(u: Json): u is Json & WrappedEvent {
  const dat = u['dat']
  const control = u['control']
  const detail = u['detail']
  return (
    isObject(dat) &&
    looksLikeEvent(dat) &&
    isOptionalString(u['chan']) &&
    (control === undefined || control === false) &&
    (detail === undefined || detail === null || typeof detail === 'string')
  )
}

/** `ControlPayload.is`, on `JSON.parse` output whose `control` is `true` (checked by the caller). */
export function looksLikeControl(u: Json): u is Json & ControlPayload {
  const detail = u['detail']
  const ts = u['ts']
  const remaining = u['requests_remaining']
  return (
    typeof u['code'] === 'string' &&
    (detail === undefined || detail === null || typeof detail === 'string') &&
    (ts === undefined || typeof ts === 'number') &&
    (remaining === undefined || Number.isSafeInteger(remaining)) &&
    isOptionalString(u['chan'])
  )
}
