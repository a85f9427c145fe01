import { Observable, type OperatorFunction } from 'rxjs'
import { explainShape } from '../codec/explain.js'
import { decodeSegment, type EventCheck } from './decode-segment.js'
import type { Decoded, Redact } from './diagnostic.js'

export type { EventCheck } from './decode-segment.js'

/** Options of {@link decodePayloads}. */
export interface DecodePayloadsConfig {
  /**
   * Applied to each segment before it is parsed, and to diagnostic messages: so every string
   * and key of a control payload or an event, and every diagnostic's `raw`, is redacted. The
   * client gives `redactor(token)`, which finds the token in any JSON spelling (`\uXXXX`
   * escapes included) and, for a segment with no backslash and no form of it, costs two native
   * scans (a backslash, one code unit of the token). Its replacement must be valid inside a
   * JSON string (`[redacted]` is).
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

/**
 * Decodes one segment: a control payload, an event, or a diagnostic (never a throw). A value is
 * a control payload, a wrapped event or a bare event exactly when `ServerPayload.is` says so,
 * tried in the union's order (a property test holds this); a rejected one is explained by the
 * codecs, naming paths and expected types, never values.
 *
 * With `redact`, the segment is redacted before it is parsed, so nothing passed on (no string
 * or key of a payload, no diagnostic) holds what it redacts; `redactor(token)` costs two native
 * scans of a segment with no backslash and no form of the token. With `checkEvent`, each event
 * is checked too (see {@link DecodePayloadsConfig.checkEvent}).
 */
export function decodePayload(raw: string, redact?: Redact, checkEvent?: EventCheck): Decoded {
  return decodeSegment(raw, redact, checkEvent, explainShape)
}

/**
 * Segments → decoded results: each a control payload, an event, or a diagnostic. A bad
 * segment is a value, never an error: the stream neither errors nor completes because of it.
 *
 * @example
 * frame$.pipe(splitFrames(), decodePayloads({ redact }))
 */
export function decodePayloads(config: DecodePayloadsConfig = {}): OperatorFunction<string, Decoded> {
  const redact = config.redact
  // Refused here: either, called on the first segment, would throw inside the operator and
  // lose every segment.
  for (const name of ['redact', 'checkEvent'] as const) {
    if (config[name] !== undefined && typeof config[name] !== 'function') throw new TypeError(`decodePayloads(): ${name} must be a function`)
  }
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
