import type { TargetSettings } from '../streams/settings.js'

export type { TargetSettings }

const storageKey = 'fates-rx.dashboard.remembered'

const sameTarget = (a: TargetSettings, b: TargetSettings): boolean =>
  a.url === b.url && a.kind === b.kind && a.id === b.id

function isSettings(value: unknown): value is TargetSettings {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    typeof v['url'] === 'string' &&
    (v['kind'] === 'bot' || v['kind'] === 'server') &&
    typeof v['id'] === 'string' &&
    typeof v['token'] === 'string' &&
    typeof v['sendAll'] === 'boolean' &&
    typeof v['sendNone'] === 'boolean'
  )
}

/**
 * Targets the user asked to remember on this device (token included: that is what ticking
 * "remember on this device" means). Nothing else is ever stored.
 */
export function rememberedTargets(storage: Storage = localStorage): TargetSettings[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(storageKey) ?? '[]')
    return Array.isArray(parsed) ? parsed.filter(isSettings) : []
  } catch {
    return []
  }
}

/** Remembers a target, replacing an older entry for the same URL, kind and ID. */
export function remember(settings: TargetSettings, storage: Storage = localStorage): void {
  const others = rememberedTargets(storage).filter((t) => !sameTarget(t, settings))
  storage.setItem(storageKey, JSON.stringify([...others, settings]))
}

/** Forgets a target (and its token) on this device. */
export function forget(settings: TargetSettings, storage: Storage = localStorage): void {
  const others = rememberedTargets(storage).filter((t) => !sameTarget(t, settings))
  if (others.length === 0) storage.removeItem(storageKey)
  else storage.setItem(storageKey, JSON.stringify(others))
}
