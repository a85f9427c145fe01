import { connectionName, type NamedOptions } from './digest.js'
import type { IdentifyBudget } from './identify-budget.js'
import type { Persisted, Watermark } from './machine.js'
import type { PersistStore } from './persist-support.js'

// `persist`'s records: what connect() loads with import() only when the option is on. The
// machine decides what to keep and when (its `restore` and `persist` effects); this reads and
// writes. A record is a short JSON text: `{"v":1,"mark":{"ts":…,"eid":…},"ledger":{…}}`, under
// the connection's name (a SHA-256 digest); it never holds the token.

/** The version of the record's shape: a record of another version is ignored, never misread. */
const RecordVersion = 1

const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The record as stored: `-Infinity` (an event without `m.ts`) is `null` in JSON. */
export function recordText(record: Persisted): string {
  const mark = record.mark === undefined ? {} : { mark: { ts: finite(record.mark.ts) ? record.mark.ts : null, eid: record.mark.eid } }
  return JSON.stringify({ v: RecordVersion, ...mark, ledger: record.ledger })
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
      ? { ts: mark['ts'] === null ? -Infinity : mark['ts'], eid: mark['eid'] }
      : undefined
  return watermark === undefined ? { ledger: ledger as IdentifyBudget } : { mark: watermark, ledger: ledger as IdentifyBudget }
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

/** Opens the record of the connection `config` names in `store`. Rejects when its name cannot be read. */
export async function openRecord(store: PersistStore, config: NamedOptions): Promise<OpenedRecord> {
  const key = await connectionName(config)
  let record: Persisted | undefined
  try {
    record = parseRecord(await store.getItem(key))
  } catch {
    // A store that refuses (storage blocked, quota, a failing database) costs the record only.
    record = undefined
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
