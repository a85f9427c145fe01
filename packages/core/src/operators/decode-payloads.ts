import { Observable, type OperatorFunction } from 'rxjs'
import { ControlPayload, FatesEvent, type ReceivedEvent, WrappedEvent } from '../codec/codecs.js'
import { describeErrors, unsafeSnowflakePaths } from '../codec/report.js'
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
   * Applied to each segment before it is parsed, and to diagnostic messages: so every string
   * and key of a control payload or an event, and every diagnostic's `raw`, is redacted. The
   * client gives `redactor(token)`, which finds the token in any JSON spelling (`\uXXXX`
   * escapes included) and costs one scan of a segment holding none. Its replacement must be
   * valid inside a JSON string (`[redacted]` is).
   * @default the identity
   */
  readonly redact?: Redact
  /**
   * Asked of each event, which is delivered either way: a diagnostic it returns travels with
   * the event (to `diagnostic$` after `partitionPayloads`). Give `contextMismatch` (from
   * `@fates-rx/core/sans-io`) to hear of every event whose ctx does not fit its name,
   * the ones `ofEvent` and `isEvent` leave out. A function, not a flag, so that a pipeline
   * without it carries no context codecs.
   * @default none
   */
  readonly checkEvent?: EventCheck
}

/** A check of a decoded event: a diagnostic to report beside it, or `undefined`. */
export type EventCheck = (event: ReceivedEvent) => Diagnostic | undefined

const keep: Redact = (text) => text

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
 * Decodes one segment. The hot path checks validity (fast guards that imply the codecs' `is`,
 * then `is` itself) and runs `decode` only to explain a failure. It agrees with `ServerPayload`: a
 * value is a control payload, a wrapped event or a bare event exactly when `ServerPayload.is`
 * says so, tried in the union's order (a property test holds this).
 *
 * With `redact`, the segment is redacted before it is parsed, so nothing passed on (no string
 * or key of a payload, no diagnostic) holds what it redacts; `redactor(token)` costs one scan
 * of a segment holding no form of the token. With `checkEvent`, each event is checked too
 * (see {@link DecodePayloadsConfig.checkEvent}).
 */
export function decodePayload(raw: string, redact: Redact = keep, checkEvent?: EventCheck): Decoded {
  const segment = redact(raw)
  let value: unknown
  try {
    value = JSON.parse(segment)
  } catch (error) {
    return { type: 'diagnostic', diagnostic: diagnostic('not-json', parseFailure(error), segment, redact) }
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    if (record['control'] === true) {
      if (looksLikeControl(record) || ControlPayload.is(record)) return { type: 'control', control: record }
    } else if (record['code'] === 'event' && (looksLikeWrappedEvent(record) || WrappedEvent.is(record))) {
      return asEvent(received(record.dat, record.chan), segment, redact, checkEvent)
    }
    const chan = record['chan']
    if (looksLikeEvent(record) || FatesEvent.is(record)) return asEvent(received(record, chan), segment, redact, checkEvent)
  }
  return {
    type: 'diagnostic',
    diagnostic: diagnostic('unknown-shape', explain(value), segment, redact),
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
  const redact = config.redact ?? keep
  // `new Observable` rather than `map`: connect() runs this operator on every segment, and
  // rxjs's map brings its OperatorSubscriber machinery into every app's bundle and a layer of
  // calls per value. decodePayload never throws, so map's try/catch buys nothing here.
  const check = config.checkEvent
  return (source) =>
    new Observable<Decoded>((subscriber) =>
      source.subscribe({
        next: (segment) => subscriber.next(decodePayload(segment, redact, check)),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
}
