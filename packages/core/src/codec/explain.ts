import { ControlPayload, FatesEvent, WrappedEvent } from './codecs.js'
import { describeErrors } from './describe-errors.js'
import { explainRoughly, likelyShape } from './shape.js'

const Codecs = { ControlPayload, WrappedEvent, FatesEvent }

/**
 * Why `value` is no server payload, in full: the paths and expected types where it fails the
 * codec of the shape it most looks like ({@link likelyShape}), never its values. The
 * `unknown-shape` diagnostic's message.
 *
 * @example
 * explainShape({ m: { e: 'x' }, ctx: {} }) // 'm.e: expected Integer'
 */
export function explainShape(value: unknown): string {
  const shape = likelyShape(value)
  if (shape === undefined) return explainRoughly(value)
  const codec = Codecs[shape]
  const result = codec.decode(value)
  return result._tag === 'Left' ? describeErrors(result.left) : `(root): expected ${codec.name}`
}
