// Which of the protocol's shapes a rejected value most looks like, without the codecs: so that
// connect(), whose up-front code carries no io-ts, can still name what a bad segment missed,
// and the codecs (loaded with the checks' chunk) explain it in full against that shape.

/** The names of the codecs a server payload can be (`ServerPayload`'s branches). */
export type ShapeName = 'ControlPayload' | 'WrappedEvent' | 'FatesEvent'

/**
 * The shape `value` most looks like: a control payload when it says `control: true`, a wrapped
 * event when its `code` is `"event"`, an event when it has `m` or `ctx`; else none. Explaining
 * against that one shape, not the union, names the one mistake instead of every branch's.
 */
export function likelyShape(value: unknown): ShapeName | undefined {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  return record['control'] === true
    ? 'ControlPayload'
    : record['code'] === 'event'
      ? 'WrappedEvent'
      : 'm' in record || 'ctx' in record
        ? 'FatesEvent'
        : undefined
}

/**
 * Why `value` is no server payload, naming only the shape it missed (the codecs add the
 * paths: `explainShape`). Values are never echoed.
 *
 * @example
 * explainRoughly({ m: { e: 'x' }, ctx: {} }) // '(root): expected FatesEvent'
 */
export function explainRoughly(value: unknown): string {
  const shape = likelyShape(value)
  if (shape !== undefined) return `(root): expected ${shape}`
  const what = Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value
  return `(root): expected a control payload or an event, got ${what}`
}
