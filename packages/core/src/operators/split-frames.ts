import { Observable, type OperatorFunction } from 'rxjs'
import { Protocol } from '../protocol/index.js'

/**
 * Frames → their non-empty segments, split on ASCII 31 (`\x1f`). Every frame is split,
 * whatever it holds; empty segments (`E1\x1f\x1fE2\x1f`) are skipped.
 *
 * @example
 * of('E1\x1f\x1fE2\x1f').pipe(splitFrames()) // 'E1', 'E2'
 */
export function splitFrames(): OperatorFunction<string, string> {
  // Written with `new Observable` on purpose: `mergeMap(frame => from(frame.split(sep)))` builds
  // an array, an inner observable and an inner subscriber per frame, and a `filter` after it
  // adds a subscriber per segment. One subscriber that walks the frame with indexOf and emits
  // each segment keeps the hot path a plain loop.
  return (source) =>
    new Observable<string>((subscriber) =>
      source.subscribe({
        next(frame) {
          const length = frame.length
          let start = 0
          while (start <= length && !subscriber.closed) {
            let end = frame.indexOf(Protocol.separator, start)
            if (end === -1) end = length
            if (end > start) subscriber.next(frame.slice(start, end))
            start = end + 1
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
}
