import { Protocol } from '@fates-rx/core/protocol'

/**
 * Writes a JSON value as Go's `json.Marshal` wrote the original's events: object keys sorted,
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX` / `\u20XX`. Clients must not depend on
 * either, but byte-for-byte frames make transcript tests against the recordings possible.
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return goString(value)
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`
      const record = value as Record<string, unknown>
      const parts: string[] = []
      for (const key of Object.keys(record).sort()) {
        const item = record[key]
        if (item === undefined || typeof item === 'function') continue
        parts.push(`${goString(key)}:${goJson(item)}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      return 'null'
  }
}

const htmlUnsafe = /[<>&\u2028\u2029]/
const htmlUnsafeAll = /[<>&\u2028\u2029]/g

/** A JSON string literal with Go's HTML-safe escapes. */
export function goString(text: string): string {
  const json = JSON.stringify(text)
  return htmlUnsafe.test(json)
    ? json.replace(htmlUnsafeAll, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json
}

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
): string {
  return `{"code":${goString(code)},"detail":${goString(detail)},"ts":${unixSeconds(nowMs)},"requests_remaining":${requestsRemaining},"control":true}`
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
  constructor(
    /** The wrapped event as JSON text. */
    readonly text: string,
  ) {}

  /** The frame holding just this event (`E\x1f`), as UTF-8 bytes. */
  get frame(): Buffer {
    return (this.#frame ??= Buffer.from(this.text + Protocol.separator, 'utf8'))
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
