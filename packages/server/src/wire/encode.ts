import { goJson, goString, Protocol } from '@fates-rx/core/protocol'

export { goJson, goJsonWalk, goString } from '@fates-rx/core/protocol'

/** Unix seconds as the original wrote `ts` in control payloads: a whole number. */
export const unixSeconds = (nowMs: number): number => Math.floor(nowMs / 1000)

/**
 * A control payload in the original's field order (`code, detail, ts, requests_remaining,
 * control`: a Go struct, not a map, so not sorted).
 */
export function encodeControl(
  code: string,
  detail: string,
  requestsRemaining: number,
  nowMs: number,
  channels?: Readonly<Record<string, string>>,
): string {
  // `channels` only on this project's `resume` payload, after the original's keys.
  const extra = channels === undefined ? '' : `,"channels":${goJson(channels)}`
  return `{"code":${goString(code)},"detail":${goString(detail)},"ts":${unixSeconds(nowMs)},"requests_remaining":${requestsRemaining},"control":true${extra}}`
}

/**
 * An event wrapped as the original sent it: `{"chan","code":"event","control":false,"dat",
 * "detail":null}`, keys sorted. Computed once per published event and shared by every
 * connection on the channel.
 */
export function encodeEvent(channel: string, event: unknown): EncodedEvent {
  return new EncodedEvent(
    `{"chan":${goString(channel)},"code":"event","control":false,"dat":${goJson(event)},"detail":null}`,
  )
}

/**
 * One serialized event, shared by every connection that receives it. When an event goes out
 * alone (the usual case at low rates) its frame bytes are encoded once for all connections.
 */
export class EncodedEvent {
  #frame: Buffer | undefined
  #bytes = -1
  constructor(
    /** The wrapped event as JSON text. */
    readonly text: string,
  ) {}

  /** The frame holding just this event (`E\x1f`), as UTF-8 bytes. */
  get frame(): Buffer {
    return (this.#frame ??= Buffer.from(this.text + Protocol.separator, 'utf8'))
  }

  /** The UTF-8 length of {@link text}, counted once for every connection that queues it. */
  get bytes(): number {
    if (this.#bytes < 0) this.#bytes = this.#frame === undefined ? Buffer.byteLength(this.text, 'utf8') : this.#frame.length - 1
    return this.#bytes
  }
}

/**
 * One frame holding queued events the way the original's writer built it: the first event
 * then `\x1f`, every further one as `\x1f` + event + `\x1f`.
 *
 * @example
 * eventFrame(['A', 'B']) // 'A\x1f\x1fB\x1f'
 */
export function eventFrame(events: readonly string[]): string {
  return events.join(Protocol.separator + Protocol.separator) + Protocol.separator
}
