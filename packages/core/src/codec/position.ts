// A stored event's place in its channel, one definition for the server that stamps it and the
// client that asks to resume after it (STYLE 13). The wire form is `m.pos`, `"<epoch>:<offset>"`:
// the offset counts the channel's stored events from 1; the epoch names one life of the store
// (a restarted in-memory server or a flushed Redis starts a new one), so that an offset from
// another life is never taken for one of this life's, as Centrifugo resumes by offset and epoch.

/** A position, parsed: see {@link parsePosition}. */
export interface Position {
  /** The store's life: 1 to `PositionLimits.maxEpochLength` letters or digits. */
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
 * What the project's server adds to the wire for exact recovery (the original sends none of it,
 * and ignores the identify's `after`: Go's `json.Unmarshal` skips keys its struct lacks):
 *
 * - the identify may carry `after`, `{"<channel>": "<position>"}`: per channel, the position
 *   of the newest event the client delivered (see {@link AfterLimits});
 * - after `ready`, a server that read it sends a control payload with code `resume`, whose
 *   `channels` says per channel whether its replay is exact (`"exact"`: only the events stored
 *   after that position, in order) or else why not, one of {@link ResumeReasons} (the replay is
 *   then the whole history, to be filtered by `m.ts` as against the original).
 */
export const ResumeCode = 'resume'

/** Why a channel's resume was not exact, and what each means. */
export const ResumeReasons = /* @__PURE__ */ Object.freeze({
  /** The identify named no position for the channel. */
  none: 'No position was sent for this channel.',
  /** The position is from another life of the store (a restarted server, a flushed Redis). */
  epoch: 'The position is from an earlier life of the server’s store.',
  /** The position is past the newest event the channel stored: not one this store gave. */
  ahead: 'The position is beyond the newest event stored in this channel.',
  /** Events after the position were trimmed from the history: some of the gap is gone. */
  'too-old': 'Events after the position were already trimmed from the history.',
  /** The store keeps no positions, or the history holds events stored without one. */
  unpositioned: 'The history holds events without a position.',
} as const)

/** One of {@link ResumeReasons}. */
export type ResumeReason = keyof typeof ResumeReasons

/** A channel's outcome in a `resume` payload's `channels`. */
export type ResumeOutcome = 'exact' | ResumeReason

/** Bounds on the identify's `after`: a client's two channels (its own and `global`). */
export const AfterLimits = /* @__PURE__ */ Object.freeze({
  /** The most channels `after` may name. */
  maxChannels: 2,
  /**
   * The most bytes `after` adds to an identify, beyond the ID's length: `,"after":{` and the two
   * channels' entries, `server-<id>` and `global`, each with a position of the longest kind.
   */
  maxBytes: 101,
} as const)
