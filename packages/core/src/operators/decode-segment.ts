import type { FatesEvent, ReceivedEvent } from '../codec/codecs.js'
import { jsonFailure } from '../codec/json-failure.js'
import { keepText } from '../codec/redact.js'
import { unsafeSnowflakePaths } from '../codec/report.js'
import { explainRoughly } from '../codec/shape.js'
import { type Decoded, type Diagnostic, type DiagnosticKind, MaxDiagnosticRaw, type Redact } from './diagnostic.js'
import { looksLikeControl, looksLikeEvent, looksLikeWrappedEvent } from './fast-guards.js'

// One segment's decoding, with no io-ts in it: what connect() runs on every segment, and what
// every app downloads up front. The codecs stay the definition (the guards are held equal to
// them); they explain a rejected value, from the operator (decode-payloads.ts) or, in
// connect(), from the checks' chunk.

/** A check of a decoded event: a diagnostic to report beside it, or `undefined`. */
export type EventCheck = (event: ReceivedEvent) => Diagnostic | undefined

/** Why a parsed value is no server payload: the `unknown-shape` diagnostic's message. Never echoes values. */
export type Explain = (value: unknown) => string

function diagnostic(kind: DiagnosticKind, message: string, raw: string, redact: Redact): Diagnostic {
  // `raw` is the segment as redacted before parsing: cut after redacting, as cutting first
  // could leave a token's prefix the redactor misses.
  return { kind, message: redact(message), raw: raw.slice(0, MaxDiagnosticRaw) }
}

function received(event: FatesEvent, chan: unknown): ReceivedEvent {
  // Keys beside m and ctx are extras of the wire format, not part of the event.
  return typeof chan === 'string' ? { m: event.m, ctx: event.ctx, chan } : { m: event.m, ctx: event.ctx }
}

function asEvent(event: ReceivedEvent, segment: string, redact: Redact, check: EventCheck | undefined): Decoded {
  let found = check?.(event)
  const unsafe = unsafeSnowflakePaths(event)
  if (unsafe.length > 0) {
    const message = `${unsafe.join(', ')}: numeric snowflake beyond Number.MAX_SAFE_INTEGER was rounded by JSON.parse`
    // One diagnostic per event: the check's keeps its kind, and a rounded snowflake joins its message.
    found = found === undefined ? diagnostic('unsafe-number', message, segment, redact) : { ...found, message: `${found.message}; ${redact(message)}` }
  }
  return found === undefined ? { type: 'event', event } : { type: 'event', event, diagnostic: found }
}

/**
 * Decodes one segment, without the codecs: acceptance is the fast guards', which are exactly
 * the codecs' `is` on `JSON.parse` output (a property test holds each guard equal to its codec,
 * and this function equal to `ServerPayload.is`: a value is a control payload, a wrapped event
 * or a bare event exactly when the union says so, tried in its order). A rejected value is
 * explained by `explain`: `decodePayload` gives the codecs' full report; connect() gives it
 * once the checks' chunk has loaded, and `explainRoughly` (the shape's name) until then.
 *
 * With `redact`, the segment is redacted before it is parsed, so nothing passed on (no string
 * or key of a payload, no diagnostic) holds what it redacts; `redactor(token)` costs two native
 * scans of a segment with no backslash and no form of the token. With `checkEvent`, each event
 * is checked too (see `DecodePayloadsConfig.checkEvent`).
 */
export function decodeSegment(raw: string, redact: Redact = keepText, checkEvent?: EventCheck, explain: Explain = explainRoughly): Decoded {
  const segment = redact(raw)
  let value: unknown
  try {
    value = JSON.parse(segment)
  } catch (error) {
    return { type: 'diagnostic', diagnostic: diagnostic('not-json', jsonFailure(error), segment, redact) }
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    if (record['control'] === true) {
      if (looksLikeControl(record)) return { type: 'control', control: record }
    } else if (record['code'] === 'event' && looksLikeWrappedEvent(record)) {
      return asEvent(received(record.dat, record.chan), segment, redact, checkEvent)
    }
    const chan = record['chan']
    if (looksLikeEvent(record)) return asEvent(received(record, chan), segment, redact, checkEvent)
  }
  return {
    type: 'diagnostic',
    diagnostic: diagnostic('unknown-shape', explain(value), segment, redact),
  }
}
