/** Counters of one client, as `metrics$` emits them. */
export interface ConnectionMetrics {
  /** Frames received. */
  readonly frames: number
  /** UTF-8 bytes received in frames. */
  readonly bytes: number
  /** Segments decoded (payloads and diagnostics). */
  readonly payloads: number
  /** Events delivered on `event$` (after deduplication). */
  readonly events: number
  /** Events dropped as duplicates (same `m.eid`). */
  readonly duplicates: number
  /** Diagnostics emitted. */
  readonly diagnostics: number
  /** Connections the client replaced, keyed by close code, or `timeout` / `liveness` / `manual`. */
  readonly reconnects: Readonly<Record<string, number>>
  /** Time from the start of the last successful attempt to its `ready` (ms). */
  readonly connectToReadyMs?: number
  /** When the last frame arrived (ms since the epoch). */
  readonly lastFrameAt?: number
}

const ascii = /^[\x00-\x7f]*$/
const encoder = new TextEncoder()

/** The UTF-8 length of a string; the common all-ASCII frame costs one native regex test. */
export function utf8Length(text: string): number {
  return ascii.test(text) ? text.length : encoder.encode(text).length
}
