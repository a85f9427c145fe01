import { describe, expect, it } from 'vitest'
import { parseDemoTarget } from '../demo-target.js'
import {
  dropFromSession,
  forget,
  initialPanels,
  keepInSession,
  offeredBefore,
  remember,
  rememberedTargets,
  sessionTargets,
  type TargetSettings,
} from './remember.js'

class MemoryStorage implements Storage {
  private readonly map = new Map<string, string>()
  get length(): number {
    return this.map.size
  }
  clear(): void {
    this.map.clear()
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null
  }
  removeItem(key: string): void {
    this.map.delete(key)
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value)
  }
}

const target = { url: 'ws://h/ws', kind: 'bot', id: '1', token: 't', sendAll: false, sendNone: false } as const

describe('remembered targets', () => {
  it('stores nothing until asked, never the token, and forgets completely', () => {
    const storage = new MemoryStorage()
    expect(rememberedTargets(storage)).toEqual([])
    remember(target, storage)
    remember({ ...target, sendAll: true, token: 't2' } as TargetSettings, storage)
    const { token: _token, ...withoutToken } = target
    expect(rememberedTargets(storage)).toEqual([{ ...withoutToken, sendAll: true }])
    expect(storage.getItem('fates-rx.dashboard.remembered')).not.toContain('"token"')
    forget(target, storage)
    expect(storage.length).toBe(0)
  })

  it('reads an entry an older version stored with its token without it, and rewrites the store without it', () => {
    const storage = new MemoryStorage()
    storage.setItem('fates-rx.dashboard.remembered', JSON.stringify([target]))
    const { token: _token, ...withoutToken } = target
    expect(rememberedTargets(storage)).toEqual([withoutToken])
    expect(storage.getItem('fates-rx.dashboard.remembered')).toBe(JSON.stringify([withoutToken]))
  })

  it('keeps targets apart by URL, kind and ID', () => {
    const storage = new MemoryStorage()
    remember(target, storage)
    remember({ ...target, kind: 'server' }, storage)
    expect(rememberedTargets(storage)).toHaveLength(2)
  })

  it.each([['not json', '{'], ['not a list', '{}'], ['bad entries', '[{"url":1},null]']])(
    'reads %s as nothing',
    (_label, stored) => {
      const storage = new MemoryStorage()
      storage.setItem('fates-rx.dashboard.remembered', stored)
      expect(rememberedTargets(storage)).toEqual([])
    },
  )
})

describe("this tab's session", () => {
  it('keeps connected targets with their token, one per target, until dropped', () => {
    const storage = new MemoryStorage()
    keepInSession(target, storage)
    keepInSession({ ...target, id: '2' }, storage)
    keepInSession({ ...target, token: 't3' }, storage)
    expect(sessionTargets(storage)).toEqual([{ ...target, id: '2' }, { ...target, token: 't3' }])
    dropFromSession(target, storage)
    dropFromSession({ ...target, id: '2' }, storage)
    expect(storage.length).toBe(0)
  })

  it.each([['not json', '{'], ['an entry without a token', JSON.stringify([{ ...target, token: undefined }])]])('reads %s as nothing', (_label, stored) => {
    const storage = new MemoryStorage()
    storage.setItem('fates-rx.dashboard.session', stored)
    expect(sessionTargets(storage)).toEqual([])
  })
})

describe('initialPanels', () => {
  const demo = { settings: { ...target, id: '811073947382579200', token: 'demo-token', rateWindowMs: 90_000 }, autoConnect: true }
  // What this tab connected the demo target with: its own token, send_all ticked.
  const connected: TargetSettings = { ...demo.settings, token: 'tab-token', sendAll: true }
  const load = { demo, session: [], remembered: [], offeredBefore: false }

  it('connects the prefill by itself on the first offer', () => {
    expect(initialPanels(load)).toEqual([{ settings: { ...demo.settings, remember: false }, autoConnect: true }])
  })

  it('reconnects the demo target as this tab connected it, not as the prefill says', () => {
    const { rateWindowMs: _window, ...keptByTab } = connected
    const [panel] = initialPanels({ ...load, session: [keptByTab], offeredBefore: true })
    // Token, send_all and send_none are the tab's (a hot update takes its parked client back by
    // them); the server's window is the prefill's.
    expect(panel).toEqual({ settings: { ...connected, remember: false }, autoConnect: true })
  })

  it('leaves a demo panel the user disconnected alone on a reload', () => {
    expect(initialPanels({ ...load, offeredBefore: true })).toEqual([{ settings: { ...demo.settings, remember: false }, autoConnect: false }])
  })

  it('brings back the tab\'s other targets connected, then remembered ones, one panel per target', () => {
    const other = { ...target, id: '2' }
    const { token: _token, ...withoutToken } = target
    const panels = initialPanels({ ...load, session: [other, connected], remembered: [{ ...withoutToken, id: '3' }, { ...withoutToken, id: '2' }], offeredBefore: true })
    expect(panels.map((p) => [p.settings.id, p.settings.token, p.autoConnect, p.settings.remember])).toEqual([
      [demo.settings.id, 'tab-token', true, false],
      ['2', 't', true, true],
      ['3', undefined, false, true],
    ])
  })

  it('notes the first offer in this tab\'s session', () => {
    const storage = new MemoryStorage()
    expect(offeredBefore(storage)).toBe(false)
    expect(offeredBefore(storage)).toBe(true)
  })
})

describe('parseDemoTarget', () => {
  it('reads the prefill and connects by default', () => {
    expect(parseDemoTarget({ url: 'ws://h/ws', id: '1', token: 't' })).toEqual({
      settings: { url: 'ws://h/ws', id: '1', token: 't', kind: 'bot', sendAll: false, sendNone: false },
      autoConnect: true,
    })
    expect(parseDemoTarget({ url: 'u', id: '1', token: 't', kind: 'server', autoConnect: false })?.autoConnect).toBe(false)
  })

  it.each([null, 'x', { url: 'u', id: 1, token: 't' }, { url: 'u', id: '1' }])('rejects %o', (body) => {
    expect(parseDemoTarget(body)).toBeUndefined()
  })
})
