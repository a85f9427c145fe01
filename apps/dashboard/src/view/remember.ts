import type { DemoTarget } from '../demo-target.js'
import type { TargetSettings } from '../streams/settings.js'
import { browserStorage } from './storage.js'

export type { TargetSettings }

// Two stores, two promises. "Remember on this device" keeps the targets (never a token) in
// localStorage, for the next visit. This tab's connected targets, token included, are kept in
// sessionStorage, so that a reload reconnects them without asking again: sessionStorage
// belongs to this tab alone (another tab, a closed tab, a restarted browser never sees it),
// which is as long as a token typed into this page should live. A token is never written to
// localStorage, IndexedDB, a cookie or a URL.

const rememberedKey = 'fates-rx.dashboard.remembered'
const sessionKey = 'fates-rx.dashboard.session'
const offeredKey = 'fates-rx.dashboard.demo-offered'

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

function readList(storage: Storage | undefined, key: string): unknown[] {
  if (storage === undefined) return []
  try {
    const parsed: unknown = JSON.parse(storage.getItem(key) ?? '[]')
    return Array.isArray(parsed) ? parsed : []
  } catch {
    return []
  }
}

/**
 * Writes a list, or removes it when empty. Blocked or full storage keeps nothing: the page goes
 * on (a connect must not fail after its client opened), and the next load simply does not know.
 */
function writeList(storage: Storage | undefined, key: string, list: readonly unknown[]): void {
  try {
    if (list.length === 0) storage?.removeItem(key)
    else storage?.setItem(key, JSON.stringify(list))
  } catch {
    // Full (QuotaExceededError) or denied: nothing to keep it in.
  }
}

/**
 * Targets the user asked to remember on this device, without tokens. An entry an older version
 * stored with its token is read without it, and the store is rewritten without it.
 */
export function rememberedTargets(storage: Storage | undefined = browserStorage('localStorage')): RememberedTarget[] {
  const stored = readList(storage, rememberedKey)
  const targets = stored.filter(isTarget).map(withoutToken)
  if (stored.some((entry) => typeof entry === 'object' && entry !== null && 'token' in entry)) writeList(storage, rememberedKey, targets)
  return targets
}

/** Remembers a target (never its token), replacing an older entry for the same URL, kind and ID. */
export function remember(target: RememberedTarget, storage: Storage | undefined = browserStorage('localStorage')): void {
  const others = rememberedTargets(storage).filter((t) => !sameTarget(t, target))
  writeList(storage, rememberedKey, [...others, withoutToken(target)])
}

/** Forgets a target on this device. */
export function forget(target: RememberedTarget, storage: Storage | undefined = browserStorage('localStorage')): void {
  writeList(storage, rememberedKey, rememberedTargets(storage).filter((t) => !sameTarget(t, target)))
}

/** The targets this tab had connected, tokens included, in the order they were connected. */
export function sessionTargets(storage: Storage | undefined = browserStorage('sessionStorage')): TargetSettings[] {
  return readList(storage, sessionKey).filter(isSettings)
}

/** Keeps a connected target (token included) for this tab's next load. */
export function keepInSession(settings: TargetSettings, storage: Storage | undefined = browserStorage('sessionStorage')): void {
  const others = sessionTargets(storage).filter((t) => !sameTarget(t, settings))
  writeList(storage, sessionKey, [...others, settings])
}

/** Drops a target from this tab's session (disconnected or removed). */
export function dropFromSession(target: RememberedTarget, storage: Storage | undefined = browserStorage('sessionStorage')): void {
  writeList(storage, sessionKey, sessionTargets(storage).filter((t) => !sameTarget(t, target)))
}

/** True when two targets are the same URL, kind and ID. */
export { sameTarget }

/**
 * Whether a load of this tab was offered the demo prefill before (this is a reload or a hot
 * update), and notes that one was. The first offer connects by itself; later ones only what the
 * tab had connected.
 */
export function offeredBefore(storage: Storage | undefined = browserStorage('sessionStorage')): boolean {
  try {
    if (storage === undefined) return false
    if (storage.getItem(offeredKey) !== null) return true
    storage.setItem(offeredKey, '1')
  } catch {
    // Denied storage: every load is a first one, as before.
  }
  return false
}

/** A panel a load opens with. */
export interface InitialPanel {
  readonly settings: Partial<TargetSettings> & { readonly remember: boolean }
  readonly autoConnect: boolean
}

/** What a load knows when it builds its panels. */
export interface LoadState {
  /** The prefill, when the server offers one. */
  readonly demo?: DemoTarget | undefined
  /** What this tab had connected ({@link sessionTargets}). */
  readonly session: readonly TargetSettings[]
  /** What this device remembers ({@link rememberedTargets}). */
  readonly remembered: readonly RememberedTarget[]
  /** Whether this tab was offered the prefill before ({@link offeredBefore}). */
  readonly offeredBefore: boolean
}

/**
 * The panels a load opens with, one per target, in order: the demo target, then what this tab
 * had connected (connected again), then what this device remembers (to be given a token). The
 * demo target comes back as this tab connected it (its token, `send_all`, `send_none`: the
 * settings a parked client is taken back by after a hot update); not connected, it is the
 * prefill, which connects by itself only the first time this tab is offered it, so that a reload
 * leaves a panel the user disconnected alone.
 */
export function initialPanels(load: LoadState): InitialPanel[] {
  const panels: InitialPanel[] = []
  const shown: RememberedTarget[] = []
  const first = (target: RememberedTarget): boolean => !shown.some((t) => sameTarget(t, target)) && shown.push(target) > 0
  const isRemembered = (target: RememberedTarget): boolean => load.remembered.some((t) => sameTarget(t, target))
  const { demo } = load
  if (demo !== undefined && first(demo.settings)) {
    const kept = load.session.find((t) => sameTarget(t, demo.settings))
    // The server's window is the server's: the prefill says it, whatever the tab kept.
    const window = demo.settings.rateWindowMs === undefined ? {} : { rateWindowMs: demo.settings.rateWindowMs }
    const settings = kept === undefined ? demo.settings : { ...kept, ...window }
    panels.push({
      settings: { ...settings, remember: isRemembered(settings) },
      autoConnect: kept !== undefined || (demo.autoConnect && !load.offeredBefore),
    })
  }
  for (const settings of load.session) if (first(settings)) panels.push({ settings: { ...settings, remember: isRemembered(settings) }, autoConnect: true })
  for (const target of load.remembered) if (first(target)) panels.push({ settings: { ...target, remember: true }, autoConnect: false })
  return panels
}
