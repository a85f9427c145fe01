import { Observable, type OperatorFunction } from 'rxjs'
import { Protocol } from '../protocol/index.js'

/**
 * Calls `each` with every non-empty segment of one frame, in order, until it returns `false`.
 * The loop under {@link splitFrames}, for a caller that routes segments without an observable
 * (`connect()` does, on its hot path).
 *
 * @example
 * forEachSegment('E1\x1f\x1fE2\x1f', (segment) => console.log(segment)) // 'E1', 'E2'
 */
export function forEachSegment(frame: string, each: (segment: string) => boolean | void): void {
  // indexOf and slice: no array of segments, and no empty strings to skip afterwards.
  const length = frame.length
  let start = 0
  while (start <= length) {
    let end = frame.indexOf(Protocol.separator, start)
    if (end === -1) end = length
    if (end > start && each(frame.slice(start, end)) === false) return
    start = end + 1
  }
}

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
  // adds a subscriber per segment. One subscriber that walks the frame emits each segment from
  // a plain loop.
  return (source) =>
    new Observable<string>((subscriber) => {
      const emit = (segment: string): boolean => {
        subscriber.next(segment)
        return !subscriber.closed
      }
      return source.subscribe({
        next: (frame) => forEachSegment(frame, emit),
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      })
    })
}
