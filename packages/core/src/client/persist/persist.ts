import { connectionName, type NamedOptions } from '../digest.js'
import type { IdentifyBudget } from '../policies/identify-budget.js'
import type { Effect, MachineConfig, MachineState, Step, Watermark } from '../connection/machine.js'
import type { ResolvedOptions } from '../options.js'
import { initialPersistLayer, type MachineStep, type PersistInput, type Persisted, persistStep } from './persist-machine.js'
import type { FatesClient } from '../fates-client.js'
import { noted } from '../noted.js'
import type { PersistStore } from './persist-support.js'

// `persist`'s chunk: what connect() loads with import() only when the option is on. The
// layer (persist-machine.ts) decides what to keep and when (its `restore` and `persist`
// effects); this reads and writes the records and performs those effects. A record is a short JSON text: `{"v":1,"mark":{"ts":…,"eid":…,"tied":[…]},"ledger":{…}}`, under
// the connection's name (a SHA-256 digest); it never holds the token.

/** The version of the record's shape: a record of another version is ignored, never misread. */
const RecordVersion = 1

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/**
 * The record as stored: `-Infinity` (an event without `m.ts`) is `null` in JSON. The mark keeps
 * the eids delivered at its timestamp (`tied`), so that a burst sharing a millisecond is not
 * delivered again after a reload; not the server's clock, which the next `ready` teaches anew.
 */
export function recordText(record: Persisted): string {
  const kept = record.mark
  const mark =
    kept === undefined
      ? {}
      : { mark: { ts: finite(kept.ts) ? kept.ts : null, eid: kept.eid, tied: kept.tied, pos: kept.pos } }
  return JSON.stringify({ v: RecordVersion, ...mark, ledger: record.ledger })
}

/**
 * The stored `tied` eids when they are a list of strings no longer than a sanity cap: `advance`
 * keeps at most `MaxTiedEids` (64), not imported here so that this chunk shares no module with
 * the main one; a longer list is a hand-edited record, dropped rather than held.
 */
function tiedOf(value: unknown): { tied?: readonly string[] } {
  return Array.isArray(value) && value.length <= 1024 && value.every((eid) => typeof eid === 'string') ? { tied: value as string[] } : {}
}

/**
 * The record in a stored text, or undefined when there is none or it is not one of this
 * version's (another library version, a hand-edited or truncated entry): a bad record costs
 * the gap and the ledger, never a crash. Fields that are not what they should be are dropped.
 */
export function parseRecord(text: unknown): Persisted | undefined {
  if (typeof text !== 'string') return undefined
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isObject(data) || data['v'] !== RecordVersion || !isObject(data['ledger'])) return undefined
  const stored = data['ledger']
  const ledger: Record<string, number> = {}
  for (const key of ['windowStart', 'remaining', 'lastIdentifyAt', 'cooldownUntil'] as const) {
    const value = stored[key]
    if (finite(value)) ledger[key] = value
  }
  const mark = data['mark']
  const watermark: Watermark | undefined =
    isObject(mark) && (mark['ts'] === null || finite(mark['ts'])) && typeof mark['eid'] === 'string'
      ? { ts: mark['ts'] === null ? -Infinity : mark['ts'], eid: mark['eid'], ...tiedOf(mark['tied']), ...posOf(mark['pos']) }
      : undefined
  return watermark === undefined ? { ledger: ledger as IdentifyBudget } : { mark: watermark, ledger: ledger as IdentifyBudget }
}

/**
 * The mark's positions as stored (per channel, a position's text): what a reload sends back as
 * `after`, to resume exactly. Anything but text is dropped (the server checks the text).
 */
function posOf(pos: unknown): { pos?: Record<string, string> } {
  if (!isObject(pos)) return {}
  const kept: Record<string, string> = {}
  for (const [channel, text] of Object.entries(pos)) if (typeof text === 'string') kept[channel] = text
  return Object.keys(kept).length > 0 ? { pos: kept } : {}
}

/** A target's record in a store: what it held when opened, and how to keep a new one. */
export interface OpenedRecord {
  /** What the store held (undefined: nothing, unreadable, or another version's). */
  readonly record: Persisted | undefined
  /**
   * Stores a record. `now`: at once (an identify about to be sent); else once the current
   * task's other records are in, only the newest of them (one write per frame of events).
   */
  readonly keep: (record: Persisted, now: boolean) => void
}

/**
 * The longest wait (ms) for a store's read: a store that has not answered by then (an
 * IndexedDB open blocked by another tab's upgrade) is read as holding nothing, as one that
 * fails is, rather than keeping the client from connecting at all.
 */
export const StoreReadTimeoutMs = 2_000

/** Opens the record of the connection `config` names in `store`. Rejects when its name cannot be read. */
export async function openRecord(store: PersistStore, config: NamedOptions): Promise<OpenedRecord> {
  const key = await connectionName(config)
  let record: Persisted | undefined
  let cancel = (): void => {}
  try {
    const late = new Promise<undefined>((resolve) => {
      const timer = setTimeout(resolve, StoreReadTimeoutMs)
      cancel = () => clearTimeout(timer)
    })
    record = parseRecord(await Promise.race([store.getItem(key), late]))
  } catch {
    // A store that refuses (storage blocked, quota, a failing database) costs the record only.
    record = undefined
  } finally {
    cancel()
  }
  const write = (value: Persisted): void => {
    try {
      const done = store.setItem(key, recordText(value))
      if (done instanceof Promise) done.catch(() => undefined)
    } catch {
      // As above: the next page merely knows less.
    }
  }
  let pending: Persisted | undefined
  const keep = (value: Persisted, now: boolean): void => {
    if (now) {
      pending = undefined
      write(value)
      return
    }
    if (pending === undefined) {
      queueMicrotask(() => {
        const newest = pending
        pending = undefined
        if (newest !== undefined) write(newest)
      })
    }
    pending = value
  }
  return { record, keep }
}

/**
 * How connect()'s interpreter runs the machine with `persist`: given how to feed it an input
 * and the clock, a step function in place of the machine's own. Each interpreter (each tab's
 * own client) makes its own, holding its own layer state.
 */
export type Layer = (feed: (input: PersistInput) => void, now: () => number) => Stepper

/** A step function with the machine's signature, for the interpreter to call in its place. */
export type Stepper = (machine: MachineState, input: PersistInput, config: MachineConfig) => Step

/**
 * The `persist` layer over `store` for connect()'s interpreter: steps {@link persistStep} and
 * performs the store's effects itself (a `persist` first, before the machine's effects of the
 * same step, so an identify is on record before it is sent), passing the machine's on.
 */
export function persisting(store: PersistStore, config: ResolvedOptions, step: MachineStep): Layer {
  return (feed, now) => {
    let layer = initialPersistLayer
    let keep: OpenedRecord['keep'] | undefined
    return (machine, input) => {
      const result = persistStep(layer, machine, input, config, step)
      layer = result.layer
      const effects: Effect[] = []
      for (const effect of result.effects) {
        if (effect.type === 'restore') {
          openRecord(store, config).then(
            (opened) => {
              keep = opened.keep
              feed(opened.record === undefined ? { type: 'restored', at: now() } : { type: 'restored', at: now(), record: opened.record })
            },
            // No name (an option function threw): connect without a record.
            () => feed({ type: 'restored', at: now() }),
          )
        } else if (effect.type === 'persist') keep?.(effect.record, effect.now)
        else effects.push(effect)
      }
      return { state: result.machine, effects }
    }
  }
}

/**
 * The client of connect() with `persist`: made by `make` with the layer (over the machine's
 * `step`, passed in so that this chunk imports nothing of connect()'s) over the option's store,
 * or, where there is none (`true` without a usable `localStorage`, or not a store), without
 * it, saying in every status's detail why it is not persisted.
 */
export function persisted(option: true | PersistStore, config: ResolvedOptions, make: (layer?: Layer) => FatesClient, step: MachineStep): FatesClient {
  let store: Partial<PersistStore> | undefined
  try {
    store = option === true ? (globalThis as { localStorage?: PersistStore }).localStorage : option
  } catch {
    // A browser that blocks storage for this page throws on the property itself.
  }
  if (typeof store?.getItem !== 'function' || typeof store.setItem !== 'function') {
    const why = option === true ? 'this environment has no usable localStorage; pass a store with getItem and setItem' : 'the store given lacks getItem or setItem'
    return noted(make(), `Not persisted: ${why}.`)
  }
  return make(persisting(store as PersistStore, config, step))
}
