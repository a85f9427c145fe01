/**
 * The consumers the in-process sections compare, each fed one frame at a time as a socket
 * would feed it.
 *
 * @packageDocumentation
 */
import { decodePayload, dedupeEvents, fromFrames } from '@fates-rx/core'
import { Subject, Subscription } from 'rxjs'
import { parseFrame, type BaselineCount } from './baseline.js'
import { SEPARATOR } from './corpus.js'

/** A consumer of frames. */
export interface FrameConsumer {
  push(frame: string): void
  /** Payloads delivered so far (events after dedupe, when it dedupes). */
  delivered(): number
  close(): void
}

/** `fromFrames` with one subscriber on each of `control$` and `event$`, optionally deduplicating. */
function pipeline(dedupe: boolean): FrameConsumer {
  const frame$ = new Subject<string>()
  const { control$, event$ } = fromFrames(frame$)
  let delivered = 0
  const subscriptions = new Subscription()
  subscriptions.add(control$.subscribe(() => delivered++))
  const deduped$ = dedupe ? event$.pipe(dedupeEvents()) : event$
  subscriptions.add(deduped$.subscribe(() => delivered++))
  return {
    push: (frame) => frame$.next(frame),
    delivered: () => delivered,
    close: () => subscriptions.unsubscribe(),
  }
}

/** The consumers by name; the first is the baseline. */
export const consumers = {
  /** split + skip empty + `JSON.parse`: the limit. */
  baseline(): FrameConsumer {
    const count: BaselineCount = { payloads: 0, controls: 0 }
    return { push: (frame) => parseFrame(frame, count), delivered: () => count.payloads, close() {} }
  },
  /** split + core's `decodePayload` (parse + validate) in a plain loop: validation without RxJS. */
  decodeLoop(): FrameConsumer {
    let delivered = 0
    return {
      push(frame) {
        const segments = frame.split(SEPARATOR)
        for (let i = 0; i < segments.length; i++) {
          const segment = segments[i] as string
          if (segment.length === 0) continue
          if (decodePayload(segment).type !== 'diagnostic') delivered++
        }
      },
      delivered: () => delivered,
      close() {},
    }
  },
  /** `fromFrames`, one subscriber on each of `control$` and `event$`. */
  fromFrames: (): FrameConsumer => pipeline(false),
  /** The same with `dedupeEvents()` (default capacity) on `event$`. */
  fromFramesDedupe: (): FrameConsumer => pipeline(true),
} as const satisfies Record<string, () => FrameConsumer>

/** A consumer's name. */
export type ConsumerName = keyof typeof consumers

/** What each consumer is called in the results. */
export const ConsumerLabel: Readonly<Record<ConsumerName, string>> = {
  baseline: 'baseline split+parse',
  decodeLoop: 'split+decodePayload loop (no RxJS)',
  fromFrames: 'fromFrames',
  fromFramesDedupe: 'fromFrames + dedupeEvents',
}
