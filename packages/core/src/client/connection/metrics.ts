/** Counters of one client, as `metrics$` emits them. */
export interface ConnectionMetrics {
  /** Frames received. */
  readonly frames: number
  /**
   * Bytes received in frames: as the socket received them where it says (Node's `ws`), else
   * each frame's text counted as UTF-8 (a browser).
   */
  readonly bytes: number
  /** Segments decoded (payloads and diagnostics). */
  readonly payloads: number
  /** Events delivered on `event$` (after deduplication). */
  readonly events: number
  /** Events delivered to fill a gap after a reconnect (`resumed: true`). */
  readonly resumed: number
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

const encoder = new TextEncoder()
// Reused across frames so that counting allocates nothing; bounded, because a huge frame would
// otherwise pin three times its size for the client's lifetime.
const scratchLimit = 1 << 16
let scratch = new Uint8Array(0)

/**
 * The UTF-8 length of a string by `TextEncoder.encodeInto` into a reused buffer: what
 * {@link utf8Length} is. No allocation per call below 64 K characters.
 */
export function encodedLength(text: string): number {
  // 3 bytes per UTF-16 unit is the most UTF-8 needs (a surrogate pair is 4 bytes for 2 units).
  const needed = text.length * 3
  // Stryker disable next-line EqualityOperator: `>=` is equivalent (`needed` is a multiple of 3, the limit is not); `<=` is killed by the long-string rows of metrics.test.ts.
  if (needed > scratchLimit) return encoder.encode(text).length
  // Stryker disable next-line EqualityOperator: `<=` differs only by allocating for a first empty string (scratch 0 <= needed 0); `>=` is killed by every count test.
  if (scratch.length < needed) scratch = new Uint8Array(scratchLimit)
  return encoder.encodeInto(text, scratch).written
}

/**
 * The UTF-8 length of a string (a lone surrogate counts as the 3 bytes of U+FFFD, as it is
 * sent): {@link encodedLength}, in Node too. It counts a frame only where the socket did not
 * say its size: Node's `ws` does (`SocketFrame.bytes`), so Node's `Buffer.byteLength`, which
 * was the faster count there, is no longer worth its bytes in every browser's bundle.
 */
export const utf8Length: (text: string) => number = encodedLength
