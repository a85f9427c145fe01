// A stored event's place in its channel, one definition for the server that stamps it and the
// client that asks to resume after it (STYLE 13). The wire form is `m.pos`, `"<epoch>:<offset>"`:
// the offset counts the channel's stored events from 1; the epoch names one life of the store
// (a restarted in-memory server or a flushed Redis starts a new one), so that an offset from
// another life is never taken for one of this life's, as Centrifugo resumes by offset and epoch.

/** A position, parsed: see {@link parsePosition}. */
export interface Position {
  /** The store's life: 1 to {@link PositionLimits.maxEpochLength} letters or digits. */
  readonly epoch: string
  /** The event's number in its channel within that life, from 1. */
  readonly offset: number
}

/** Bounds on a position's text, so that an identify carrying two stays small. */
export const PositionLimits = /* @__PURE__ */ Object.freeze({
  /** The longest epoch. */
  maxEpochLength: 16,
  /** The longest position text: the epoch, `:`, and a safe integer's 16 digits. */
  maxLength: 33,
} as const)

const Shape = /^([0-9A-Za-z]{1,16}):([1-9]\d{0,15})$/

/**
 * The position `text` names, or `undefined` when it is not one (a hostile or foreign value is
 * never a position: offsets are safe integers from 1, epochs letters and digits).
 *
 * @example
 * parsePosition('k3x9:42') // { epoch: 'k3x9', offset: 42 }
 */
export function parsePosition(text: unknown): Position | undefined {
  const match = typeof text === 'string' ? Shape.exec(text) : null
  if (match === null) return undefined
  const offset = Number(match[2])
  return Number.isSafeInteger(offset) ? { epoch: match[1] as string, offset } : undefined
}

/**
 * The wire text of a position.
 *
 * @example
 * formatPosition({ epoch: 'k3x9', offset: 42 }) // 'k3x9:42'
 */
export const formatPosition = (position: Position): string => `${position.epoch}:${position.offset}`

/**
 * The later of two position texts of one channel as a client keeps it: `b` unless both are of
 * the same epoch and `b`'s offset is not past `a`'s. A new epoch replaces the old one: the
 * store's life changed, and only its own offsets mean anything now. `a` when `b` is no position.
 */
export function laterPosition(a: string | undefined, b: unknown): string | undefined {
  const next = parsePosition(b)
  if (next === undefined) return a
  const current = parsePosition(a)
  return current !== undefined && current.epoch === next.epoch && current.offset >= next.offset ? a : (b as string)
}
