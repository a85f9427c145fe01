import type { Observable } from 'rxjs'
import { type DecodePayloadsConfig, decodePayloads } from './decode-payloads.js'
import { contextMismatch } from './context-check.js'
import { type PayloadStreams, partitionPayloads } from './partition-payloads.js'
import { splitFrames } from './split-frames.js'

/**
 * The whole pipeline: frames → split → decode → `{ control$, event$, diagnostic$ }`, with one
 * subscription to `frame$` shared by the three. Unless `config.checkEvent` says otherwise,
 * each event's ctx is checked against its name's shape (`contextMismatch`), so that an event
 * `ofEvent` leaves out is on `diagnostic$` too: nothing vanishes unseen.
 *
 * @example
 * const { event$, diagnostic$ } = fromFrames(frame$)
 * event$.subscribe((event) => console.log(event.m.e, event.ctx))
 */
export function fromFrames(frame$: Observable<string>, config: DecodePayloadsConfig = {}): PayloadStreams {
  return partitionPayloads(frame$.pipe(splitFrames(), decodePayloads({ checkEvent: contextMismatch, ...config })))
}
