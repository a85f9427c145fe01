import type { TargetSettings } from '../streams/settings.js'

export type { TargetSettings }

// Two stores, two promises. "Remember on this device" keeps the targets (never a token) in
// localStorage, for the next visit. This tab's connected targets, token included, are kept in
// sessionStorage, so that a reload reconnects them without asking again: sessionStorage
// belongs to this tab alone (another tab, a closed tab, a restarted browser never sees it),
// which is as long as a token typed into this page should live. A token is never written to
// localStorage, IndexedDB, a cookie or a URL.

const rememberedKey = 'fates-rx.dashboard.remembered'
const sessionKey = 'fates-rx.dashboard.session'

/** What "remember on this device" keeps of a target: everything but the token. */
export type RememberedTarget = Omit<TargetSettings, 'token'>

const sameTarget = (a: RememberedTarget, b: RememberedTarget): boolean => a.url === b.url && a.kind === b.kind && a.id === b.id

function isTarget(value: unknown): value is RememberedTarget {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v['url'] === 'string' &&
    (v['kind'] === 'bot' || v['kind'] === 'server') &&
    typeof v['id'] === 'string' &&
    typeof v['sendAll'] === 'boolean' &&
    typeof v['sendNone'] === 'boolean'
  )
}

const isSettings = (value: unknown): value is TargetSettings => isTarget(value) && typeof (value as { token?: unknown }).token === 'string'

/** A target without its token (and without anything else a stored entry might hold). */
const withoutToken = (t: RememberedTarget): RememberedTarget => ({ url: t.url, kind: t.kind, id: t.id, sendAll: t.sendAll, sendNone: t.sendNone })

function readList(storage: Storage, key: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]')
    return Array.isArray(parsed) ? parsed : []
  } catch {
    return []
  }
}

function writeList(storage: Storage, key: string, list: readonly unknown[]): void {
  if (list.length === 0) storage.removeItem(key)
  else storage.setItem(key, JSON.stringify(list))
}

/**
 * Targets the user asked to remember on this device, without tokens. An entry an older version
 * stored with its token is read without it, and the store is rewritten without it.
 */
export function rememberedTargets(storage: Storage = localStorage): RememberedTarget[] {
  const stored = readList(storage, rememberedKey)
  const targets = stored.filter(isTarget).map(withoutToken)
  if (stored.some((entry) => typeof entry === 'object' && entry !== null && 'token' in entry)) writeList(storage, rememberedKey, targets)
  return targets
}

/** Remembers a target (never its token), replacing an older entry for the same URL, kind and ID. */
export function remember(target: RememberedTarget, storage: Storage = localStorage): void {
  const others = rememberedTargets(storage).filter((t) => !sameTarget(t, target))
  writeList(storage, rememberedKey, [...others, withoutToken(target)])
}

/** Forgets a target on this device. */
export function forget(target: RememberedTarget, storage: Storage = localStorage): void {
  writeList(storage, rememberedKey, rememberedTargets(storage).filter((t) => !sameTarget(t, target)))
}

/** The targets this tab had connected, tokens included, in the order they were connected. */
export function sessionTargets(storage: Storage = sessionStorage): TargetSettings[] {
  return readList(storage, sessionKey).filter(isSettings)
}

/** Keeps a connected target (token included) for this tab's next load. */
export function keepInSession(settings: TargetSettings, storage: Storage = sessionStorage): void {
  const others = sessionTargets(storage).filter((t) => !sameTarget(t, settings))
  writeList(storage, sessionKey, [...others, settings])
}

/** Drops a target from this tab's session (disconnected or removed). */
export function dropFromSession(target: RememberedTarget, storage: Storage = sessionStorage): void {
  writeList(storage, sessionKey, sessionTargets(storage).filter((t) => !sameTarget(t, target)))
}

/** True when two targets are the same URL, kind and ID. */
export { sameTarget }
