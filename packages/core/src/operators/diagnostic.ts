import type { ControlPayload, ReceivedEvent } from '../codec/index.js'

/**
 * Why a segment became a diagnostic: not JSON (`not-json`), not a payload's shape
 * (`unknown-shape`), an event delivered with a numeric snowflake `JSON.parse` rounded
 * (`unsafe-number`), an event delivered whose `ctx` does not fit its name's context codec
 * (`ctx-mismatch`: `ofEvent` and `isEvent` leave it out, so this is where it surfaces), or a
 * `sendAll` replay the client stopped holding (`replay-cut`: too many events, or no
 * `done_prior` in time; its `raw` is empty), or a move the client's state machine does not
 * allow (`internal-error`: a bug in the client, which then stops as `failed`; `raw` is empty).
 */
export type DiagnosticKind = 'not-json' | 'unknown-shape' | 'unsafe-number' | 'ctx-mismatch' | 'replay-cut' | 'internal-error'

/**
 * A segment the client could not deliver as it was: not JSON, not a known shape, or an event
 * delivered with a flaw (a numeric snowflake rounded by `JSON.parse`, or a `ctx` that does not
 * fit its event name's context codec); or a replay the client stopped holding.
 */
export interface Diagnostic {
  /** What went wrong. */
  readonly kind: DiagnosticKind
  /** One line for a person: paths and expected types, never a value from the payload. */
  readonly message: string
  /**
   * The segment as received (for `ctx-mismatch`, the event as delivered, re-serialised), cut
   * to {@link MaxDiagnosticRaw} characters, any known token redacted in any JSON spelling.
   */
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
      /**
       * Set when the event was delivered with a flaw: a numeric snowflake in it lost precision
       * (`unsafe-number`), or its ctx does not fit its name's codec (`ctx-mismatch`, whose
       * message also names a rounded snowflake when the event has both).
       */
      readonly diagnostic?: Diagnostic
    }
  | { readonly type: 'diagnostic'; readonly diagnostic: Diagnostic }

/** Turns text into text fit to pass on (the client redacts its token); identity by default. */
export type Redact = (text: string) => string
