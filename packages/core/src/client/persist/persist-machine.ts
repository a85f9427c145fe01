import type { IdentifyBudget, IdentifyBudgetConfig } from '../policies/identify-budget.js'
import type { Decoded } from '../../operators/diagnostic.js'
import type { Effect, MachineConfig, MachineInput, MachineState, Step, Watermark } from '../connection/machine.js'

// `persist` as a pure layer around the connection's machine (machine.ts), sans-I/O as it is:
// `persistStep(layer, machine, input)` decides when the store is read (`restore`), what the
// first connection waits for (the record), how the record joins what the machine knows (the
// ledgers merged, the stored mark), and what is written when (`persist`); the interpreter
// performs it. A layer rather than more of machine.ts so that apps that do not persist do not
// download it: it lives in persist's own chunk, with the store's code. It imports nothing of
// the main chunk at run time (the machine's `step` is a parameter): each module two chunks
// share would split the code every app downloads, which costs it bytes.

/** The machine's step function, which the layer wraps. */
export type MachineStep = (state: MachineState, input: MachineInput, config: MachineConfig) => Step

// identify-budget.ts's own rule, repeated here so as not to import it (see above).
// (One equivalent mutant, left counted, as in identify-budget.ts: the `!== undefined` guard,
// which the comparison after it repeats.)
const windowOpen = (budget: IdentifyBudget, now: number, config: IdentifyBudgetConfig): boolean =>
  budget.windowStart !== undefined && now < budget.windowStart + config.windowMs

/**
 * What `persist` keeps per target across page loads: the newest event delivered (the machine's
 * watermark, so that the first connection after a reload fills the gap) and the identify
 * ledger (window start, requests left, last identify, cooldown), so that a page reloaded again
 * and again never identifies more than the window allows.
 */
export interface Persisted {
  readonly mark?: Watermark
  readonly ledger: IdentifyBudget
}

/**
 * A stored ledger read on this clock: no identify lies in its future and no cooldown lasts past
 * a window from now. A record written before the clock was set back (or a garbage one) would
 * otherwise hold the page back for as long as the clock moved, not at most a window; taken as
 * now, the window is taken to end later than the server's, never earlier. So is an open window
 * begun by an identify whose `ready` never came (the page was reloaded first): it is on record
 * at its sending, but the server began the window when it took it, later, which {@link afterReady}
 * could not correct; by now the page that sent it is gone, and so is its socket.
 */
function onThisClock(stored: IdentifyBudget, now: number, config: IdentifyBudgetConfig): IdentifyBudget {
  const { windowStart, lastIdentifyAt, cooldownUntil } = stored
  return {
    ...stored,
    ...(windowStart !== undefined && now < windowStart + config.windowMs && (windowStart > now || windowStart === lastIdentifyAt) ? { windowStart: now } : {}),
    ...(lastIdentifyAt !== undefined && lastIdentifyAt > now ? { lastIdentifyAt: now } : {}),
    ...(cooldownUntil !== undefined && cooldownUntil > now + config.windowMs ? { cooldownUntil: now + config.windowMs } : {}),
  }
}

/**
 * Two ledgers of one target merged: this client's and one stored by an earlier page or another
 * tab. Whichever spent more wins, field by field (the earliest open window, the fewest requests
 * left, the latest identify, the longest cooldown), so that no identify either knows of is
 * forgotten. A window that has passed is forgotten; a cooldown that has passed is dropped.
 */
export function mergeLedgers(mine: IdentifyBudget, kept: IdentifyBudget, now: number, config: IdentifyBudgetConfig): IdentifyBudget {
  const stored = onThisClock(kept, now, config)
  const later = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.max(a, b))
  const myOpen = windowOpen(mine, now, config)
  const storedOpen = windowOpen(stored, now, config)
  let window: { windowStart?: number | undefined; remaining?: number | undefined } = myOpen ? mine : {}
  if (storedOpen && myOpen) {
    // A count not known is the window's full count: the other's, if known, is the smaller.
    const fewer = mine.remaining === undefined ? stored.remaining : stored.remaining === undefined ? mine.remaining : Math.min(mine.remaining, stored.remaining)
    window = { windowStart: Math.min(mine.windowStart as number, stored.windowStart as number), remaining: fewer }
  } else if (storedOpen) window = stored
  const lastIdentifyAt = later(mine.lastIdentifyAt, stored.lastIdentifyAt)
  const cooldownUntil = later(mine.cooldownUntil, stored.cooldownUntil)
  return {
    ...(window.windowStart === undefined ? {} : { windowStart: window.windowStart }),
    ...(window.remaining === undefined ? {} : { remaining: window.remaining }),
    ...(lastIdentifyAt === undefined ? {} : { lastIdentifyAt }),
    ...(cooldownUntil === undefined || cooldownUntil <= now ? {} : { cooldownUntil }),
  }
}

/**
 * The ledger after the `ready` that answered an identify arrived at `at`. When that identify
 * began a window by the client's count (the window starts at it), the server's window began
 * between sending it and `at`: the window is taken to start at `at`, the later bound, so that
 * the client never believes the window over before the server does (its first identify after
 * the window would be a 4012, and a page that reloads at the window's end would meet it).
 */
export function afterReady(ledger: IdentifyBudget, at: number): IdentifyBudget {
  return ledger.windowStart !== undefined && ledger.windowStart === ledger.lastIdentifyAt ? { ...ledger, windowStart: at } : ledger
}

/** The inputs of the layer: the machine's, and the answer to `restore`. */
export type PersistInput =
  | MachineInput
  /** What the store held for this target (`record` undefined: nothing, or unreadable). */
  | { readonly type: 'restored'; readonly at: number; readonly record?: Persisted }

/** The effects of the layer: the machine's, and the store's. */
export type PersistEffect =
  | Effect
  /** Read this target's record from the store, and answer `restored`. */
  | { readonly type: 'restore' }
  /**
   * Store this record. `now`: at once (the ledger changed: an identify must be on record
   * before it is sent); else the interpreter may coalesce it with the next ones (the mark moved).
   * Always the first effect of its step, so it is performed before any `send`.
   */
  | { readonly type: 'persist'; readonly record: Persisted; readonly now: boolean }

/** What the layer knows besides the machine. */
export interface PersistLayer {
  /** The record was read since the last subscription began (else nothing may connect). */
  readonly restored: boolean
  /** A subscription that waits for the record, to be given to the machine once it is read. */
  readonly waiting: Extract<MachineInput, { type: 'subscribed' }> | undefined
}

/** The layer before anything happened. */
export const initialPersistLayer: PersistLayer = Object.freeze({ restored: false, waiting: undefined })

/** What one step of the layer returns. */
export interface PersistStep {
  readonly layer: PersistLayer
  readonly machine: MachineState
  readonly effects: readonly PersistEffect[]
}

const isReady = (decoded: Decoded): boolean => decoded.type === 'control' && decoded.control.code === 'ready'

/** Whether `input` brings a `ready`: one payload, or a frame's (connect() feeds frames whole). */
function holdsReady(input: PersistInput): boolean {
  if (input.type === 'decoded') return isReady(input.decoded)
  if (input.type === 'frame') {
    for (const decoded of input.payloads) if (isReady(decoded)) return true
  }
  return false
}

const recordOf = (s: MachineState): Persisted => (s.watermark === undefined ? { ledger: s.budget } : { mark: s.watermark, ledger: s.budget })

/**
 * One step of `persist` around one step of the machine (`step`, machine.ts's). Pure: no store, no clock.
 *
 * - The first subscription (and the first after the last one left) waits for the record:
 *   `restore`, and the machine sees the subscription only with `restored`.
 * - `restored` merges the stored ledger into the machine's (whichever spent more wins, see
 *   `mergeLedgers`) and gives the machine the stored mark when it knows none (a tab taking
 *   over brings its own, and resumes from the earlier; with `resume` off there is no mark),
 *   then the subscription.
 * - `ready` moves a window that its identify began to its own time ({@link afterReady}).
 * - After each step, a changed ledger or mark is put on record, first: `now` when the ledger
 *   changed (an identify is about to be sent), else coalescable.
 */
export function persistStep(layer: PersistLayer, machine: MachineState, input: PersistInput, config: MachineConfig, step: MachineStep): PersistStep {
  if (input.type === 'restored') {
    if (layer.restored) return { layer, machine, effects: [] }
    const stored = input.record
    const budget = stored === undefined ? machine.budget : mergeLedgers(machine.budget, stored.ledger, input.at, { windowMs: config.rateWindowMs, minSpacingMs: config.minIdentifySpacingMs })
    // The machine has no mark here (it has not been subscribed since it last forgot it); a
    // takeover's own mark comes with the waiting subscription, and the earlier of the two wins
    // (retry.ts `subscribed`).
    const watermark = config.resume && stored?.mark !== undefined ? stored.mark : machine.watermark
    const merged: MachineState = { ...machine, budget, watermark }
    const next: PersistLayer = { restored: true, waiting: undefined }
    // Nothing written now: the store holds what was read, and whatever this client knew more
    // (a resubscription's own identifies) goes on record with its next change. (One equivalent
    // mutant, left counted: without this guard the machine gets an input with no type, which
    // it ignores.)
    if (layer.waiting === undefined) return { layer: next, machine: merged, effects: [] }
    const result = step(merged, { ...layer.waiting, at: input.at }, config)
    return { layer: next, machine: result.state, effects: result.effects }
  }
  if (input.type === 'subscribed' && !layer.restored) {
    return { layer: { restored: false, waiting: input }, machine, effects: layer.waiting === undefined ? [{ type: 'restore' }] : [] }
  }
  if (input.type === 'unsubscribed') {
    // The next subscription reads the record again: another page or tab may have spent since.
    const next: PersistLayer = { restored: false, waiting: undefined }
    // (One equivalent mutant, left counted: the machine, which never saw the waiting
    // subscription, would take this one as a no-op.)
    if (layer.waiting !== undefined) return { layer: next, machine, effects: [] }
    const result = step(machine, input, config)
    return { layer: next, machine: result.state, effects: result.effects }
  }
  const result = step(machine, input, config)
  let after = result.state
  if (holdsReady(input)) after = { ...after, budget: afterReady(after.budget, input.at) }
  if (!layer.restored || (after.budget === machine.budget && after.watermark === machine.watermark)) return { layer, machine: after, effects: result.effects }
  return { layer, machine: after, effects: [{ type: 'persist', record: recordOf(after), now: after.budget !== machine.budget }, ...result.effects] }
}
