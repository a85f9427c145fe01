import { emptyTally, parseTally, serializeTally, type Tally } from '../streams/kept.js'
import type { RememberedTarget } from './remember.js'
import { browserStorage } from './storage.js'

// A target's numbers (tiles, chart, feed) in localStorage, so that a reload, a restarted
// browser or another tab of the same target starts from them. Keyed by URL, kind and ID, and
// holding only what the page shows: never the token (a tally has no field for it).

const prefix = 'fates-rx.dashboard.kept:'

/** The localStorage key of a target's numbers. */
export const keptKey = (target: Pick<RememberedTarget, 'url' | 'kind' | 'id'>): string =>
  `${prefix}${JSON.stringify([target.url, target.kind, target.id])}`

/** What {@link loadKept} found: a tally to start from, and why a stored one was unusable. */
export interface Kept {
  readonly tally: Tally
  readonly problem?: string
}

/**
 * The numbers kept for a target, or an empty tally. An unreadable entry (another version's, a
 * half-written one, a hand edit) is removed and named in `problem`: the page starts clean, and
 * says so, rather than failing to load.
 */
export function loadKept(target: Pick<RememberedTarget, 'url' | 'kind' | 'id'>, now: number, storage: Storage | undefined = browserStorage('localStorage')): Kept {
  let text: string | null
  try {
    if (storage === undefined) return { tally: emptyTally(now) }
    text = storage.getItem(keptKey(target))
  } catch {
    // Storage denied (a privacy setting): nothing kept, nothing to say per target.
    return { tally: emptyTally(now) }
  }
  if (text === null) return { tally: emptyTally(now) }
  const parsed = parseTally(text)
  if ('tally' in parsed) return parsed
  dropKept(target, storage)
  return { tally: emptyTally(now), problem: parsed.problem }
}

/**
 * Keeps a target's numbers. Returns false when the browser refused (quota, denied storage):
 * the page goes on counting, and the next load starts from the last numbers that were kept.
 */
export function saveKept(target: Pick<RememberedTarget, 'url' | 'kind' | 'id'>, tally: Tally, storage: Storage | undefined = browserStorage('localStorage')): boolean {
  if (storage === undefined) return false
  try {
    storage.setItem(keptKey(target), serializeTally(tally))
    return true
  } catch {
    return false
  }
}

/** Forgets a target's numbers (the user removed its panel). */
export function dropKept(target: Pick<RememberedTarget, 'url' | 'kind' | 'id'>, storage: Storage | undefined = browserStorage('localStorage')): void {
  try {
    storage?.removeItem(keptKey(target))
  } catch {
    // Denied storage kept nothing to forget.
  }
}
