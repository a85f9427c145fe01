import type { ControlPayload, ReceivedEvent } from '../codec/index.js'

/** Why a segment became a diagnostic instead of a payload. */
export type DiagnosticKind = 'not-json' | 'unknown-shape' | 'unsafe-number' | 'replay-cut'

/**
 * A segment the client could not deliver as it was: not JSON, not a known shape, or an event
 * whose numeric snowflake was rounded by `JSON.parse` (that event is still delivered); or
 * `replay-cut`, a `sendAll` replay the client stopped holding (too many events, or no
 * `done_prior` in time: `raw` is empty).
 */
export interface Diagnostic {
  /** What went wrong. */
  readonly kind: DiagnosticKind
  /** One line for a person: paths and expected types, never a value from the payload. */
  readonly message: string
  /** The segment as received, cut to {@link MaxDiagnosticRaw} characters, any known token redacted. */
  readonly raw: string
}

/** The longest `raw` a diagnostic carries: enough to recognise a payload, bounded in memory. */
export const MaxDiagnosticRaw = 1024

/** One decoded segment: a control payload, an event, or a diagnostic. */
export type Decoded =
  | { readonly type: 'control'; readonly control: ControlPayload }
  | {
      readonly type: 'event'
      readonly event: ReceivedEvent
      /** Set when the event was delivered but a numeric snowflake in it lost precision. */
      readonly diagnostic?: Diagnostic
    }
  | { readonly type: 'diagnostic'; readonly diagnostic: Diagnostic }

/** Turns text into text fit to pass on (the client redacts its token); identity by default. */
export type Redact = (text: string) => string
