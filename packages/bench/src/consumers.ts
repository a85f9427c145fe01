/**
 * The consumers the in-process sections compare, each fed one frame at a time as a socket
 * would feed it.
 *
 * @packageDocumentation
 */
import { parseFrame, type BaselineCount } from './baseline.js'

/** A consumer of frames. */
export interface FrameConsumer {
  push(frame: string): void
  /** Payloads (or events, after dedupe) delivered so far. */
  delivered(): number
  close(): void
}

/** The consumers by name. */
export const consumers: Readonly<Record<string, () => FrameConsumer>> = {
  baseline() {
    const count: BaselineCount = { payloads: 0, controls: 0 }
    return { push: (frame) => parseFrame(frame, count), delivered: () => count.payloads, close() {} }
  },
}
