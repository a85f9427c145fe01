/**
 * The limit every client is measured against: split on the separator, skip empty segments,
 * `JSON.parse` each one. Nothing a client can do costs less and still reads every payload.
 *
 * @packageDocumentation
 */
import { Protocol } from '@fates-rx/core/protocol'

/** What a pass over the frames saw; returned so the engine cannot drop the work. */
export interface BaselineCount {
  payloads: number
  controls: number
}

/** Splits and parses one frame, counting what it held into `count`. */
export function parseFrame(frame: string, count: BaselineCount): void {
  const segments = frame.split(Protocol.separator)
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string
    if (segment.length === 0) continue
    const value: unknown = JSON.parse(segment)
    count.payloads++
    // One property read, so that the parsed value is used (a client must at least route it).
    if ((value as { control?: unknown }).control === true) count.controls++
  }
}

/** The baseline over a whole corpus. */
export function baseline(frames: readonly string[]): BaselineCount {
  const count: BaselineCount = { payloads: 0, controls: 0 }
  for (let i = 0; i < frames.length; i++) parseFrame(frames[i] as string, count)
  return count
}
