import type { OperatorFunction } from 'rxjs'
import { map } from 'rxjs'
import {
  ControlPayload,
  contextCodecOf,
  describeErrors,
  FatesEvent,
  OtherContext,
  type ReceivedEvent,
  type Redactor,
  toRedactor,
  unsafeSnowflakePaths,
  WrappedEvent,
} from '../codec/index.js'
import { looksLikeControl, looksLikeEvent, looksLikeWrappedEvent } from './fast-guards.js'
import {
  type Decoded,
  type Diagnostic,
  type DiagnosticKind,
  MaxDiagnosticRaw,
  type Redact,
} from './diagnostic.js'

/** Options of {@link decodePayloads}. */
export interface DecodePayloadsConfig {
  /**
   * Applied to every text passed on: diagnostic `raw` and `message`, and every string (and
   * key) of a control payload or an event. The client gives `redactor(token)`, which also finds
   * the token spelt with JSON escapes and costs one scan of a segment that holds no form of it;
   * any other function is applied to every string of every payload.
   * @default the identity
   */
  readonly redact?: Redact
}

const keep: Redact = (text) => text

function diagnostic(kind: DiagnosticKind, message: string, raw: string, redact: Redact | undefined): Diagnostic {
  // Redact before cutting: cutting first could leave a token's prefix the redactor misses.
  if (redact === undefined) return { kind, message, raw: raw.slice(0, MaxDiagnosticRaw) }
  return { kind, message: redact(message), raw: redact(raw).slice(0, MaxDiagnosticRaw) }
}

function received(event: FatesEvent, chan: unknown): ReceivedEvent {
  // Keys beside m and ctx are extras of the wire format, not part of the event.
  return typeof chan === 'string' ? { m: event.m, ctx: event.ctx, chan } : { m: event.m, ctx: event.ctx }
}

/** Why an event's ctx does not fit its name's context codec, or undefined when it fits. */
function ctxMismatch(event: ReceivedEvent): string | undefined {
  const codec = contextCodecOf(event.m.e)
  // Every event's ctx is a record already (the guards checked): nothing more to ask of it.
  if (codec === OtherContext || codec.is(event.ctx)) return undefined
  const result = codec.decode(event.ctx)
  const why = result._tag === 'Left' ? describeErrors(result.left) : `(root): expected ${codec.name}`
  // describeErrors names paths inside the ctx: say whose they are.
  const paths = why
    .split('; ')
    .map((line) => (line.startsWith('(root)') ? `ctx${line.slice(6)}` : `ctx.${line}`))
    .join('; ')
  return `event ${event.m.e}: ${paths} (delivered on event$; ofEvent leaves it out)`
}

function asEvent(event: ReceivedEvent, segment: string, redactor: Redactor | undefined): Decoded {
  const clean = redactor === undefined ? event : redactor.value(event)
  const unsafe = unsafeSnowflakePaths(clean)
  const mismatch = ctxMismatch(clean)
  if (unsafe.length === 0 && mismatch === undefined) return { type: 'event', event: clean }
  const rounded =
    unsafe.length === 0
      ? undefined
      : `${unsafe.join(', ')}: numeric snowflake beyond Number.MAX_SAFE_INTEGER was rounded by JSON.parse`
  // One diagnostic per event: a mismatch is the graver (ofEvent drops the event), so it names
  // the kind, and a rounded snowflake in the same event is told in its message.
  const diagnosis =
    mismatch === undefined
      ? diagnostic('unsafe-number', rounded as string, segment, redactor)
      : diagnostic('ctx-mismatch', rounded === undefined ? mismatch : `${mismatch}; ${rounded}`, segment, redactor)
  return { type: 'event', event: clean, diagnostic: diagnosis }
}

/**
 * Decodes one segment. The hot path checks validity (fast guards that imply the codecs' `is`,
 * then `is` itself) and runs `decode` only to explain a failure. It agrees with `ServerPayload`: a
 * value is a control payload, a wrapped event or a bare event exactly when `ServerPayload.is`
 * says so, tried in the union's order (a property test holds this).
 *
 * With `redact`, every string passed on is redacted; with a {@link Redactor} (as
 * `redactor(token)` builds) a segment holding no form of the secret costs one scan, and only
 * the others have their parsed strings searched.
 */
export function decodePayload(segment: string, redact: Redact = keep): Decoded {
  const redactor = redact === keep ? undefined : toRedactor(redact)
  let value: unknown
  try {
    value = JSON.parse(segment)
  } catch (error) {
    return { type: 'diagnostic', diagnostic: diagnostic('not-json', parseFailure(error), segment, redactor) }
  }
  // The one scan: a segment with no form of the secret passes on no string that holds it.
  const dirty = redactor !== undefined && redactor.mayHold(segment) ? redactor : undefined
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    if (record['control'] === true) {
      if (looksLikeControl(record) || ControlPayload.is(record)) {
        return { type: 'control', control: dirty === undefined ? record : dirty.value(record) }
      }
    } else if (record['code'] === 'event' && (looksLikeWrappedEvent(record) || WrappedEvent.is(record))) {
      return asEvent(received(record.dat, record.chan), segment, dirty)
    }
    const chan = record['chan']
    if (looksLikeEvent(record) || FatesEvent.is(record)) return asEvent(received(record, chan), segment, dirty)
  }
  return {
    type: 'diagnostic',
    diagnostic: diagnostic('unknown-shape', explain(value), segment, redactor),
  }
}

/**
 * The engine's reason a segment is not JSON, unless it quotes the segment. V8 quotes about ten
 * characters around the bad one (`Unexpected token 'x', "xabcdefghi"... is not valid JSON`),
 * and Safari the bad word: a cut-off piece of a token that no redactor can recognise.
 */
function parseFailure(error: unknown): string {
  const reason = error instanceof Error ? error.message : ''
  return reason !== '' && !/["'`]/.test(reason) ? reason : 'Not valid JSON (unexpected character)'
}

function explain(value: unknown): string {
  // Explain against the codec the payload most looks like; the union's report would list
  // every branch and bury the one mistake.
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  const codec =
    record['control'] === true
      ? ControlPayload
      : record['code'] === 'event'
        ? WrappedEvent
        : 'm' in record || 'ctx' in record
          ? FatesEvent
          : undefined
  if (codec === undefined) {
    const what = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value
    return `(root): expected a control payload or an event, got ${what}`
  }
  const result = codec.decode(value)
  return result._tag === 'Left' ? describeErrors(result.left) : `(root): expected ${codec.name}`
}

/**
 * Segments → decoded results: each a control payload, an event, or a diagnostic. A bad
 * segment is a value, never an error: the stream neither errors nor completes because of it.
 *
 * @example
 * frame$.pipe(splitFrames(), decodePayloads({ redact }))
 */
export function decodePayloads(config: DecodePayloadsConfig = {}): OperatorFunction<string, Decoded> {
  // Wrapped once here, not per segment.
  const redact = config.redact === undefined ? keep : toRedactor(config.redact)
  return map((segment) => decodePayload(segment, redact))
}
