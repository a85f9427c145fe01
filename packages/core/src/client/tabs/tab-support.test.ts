import { afterEach, describe, expect, it, vi } from 'vitest'
import { tabsEnvironment, type TabLocks, type TabsEnvironment } from './tab-support.js'

describe('tabsEnvironment', () => {
  afterEach(() => vi.unstubAllGlobals())
  const locks: TabLocks = { request: () => Promise.resolve(undefined) } as unknown as TabLocks

  it('takes the browser\'s Web Locks and BroadcastChannel when it has them and crypto.subtle', () => {
    vi.stubGlobal('navigator', { locks })
    expect(tabsEnvironment(true)).toEqual({ locks, BroadcastChannel: globalThis.BroadcastChannel })
  })

  it.each([
    ['Web Locks', () => vi.stubGlobal('navigator', {})],
    ['BroadcastChannel', () => (vi.stubGlobal('navigator', { locks }), vi.stubGlobal('BroadcastChannel', undefined))],
    ['crypto.subtle', () => (vi.stubGlobal('navigator', { locks }), vi.stubGlobal('crypto', {}))],
    ['crypto', () => (vi.stubGlobal('navigator', { locks }), vi.stubGlobal('crypto', undefined))],
  ])('says why there is none without %s', (_missing, stub) => {
    stub()
    expect(tabsEnvironment(true)).toMatch(/lacks Web Locks, BroadcastChannel or crypto\.subtle/)
  })

  it('takes an environment given as it is', () => {
    const given: TabsEnvironment = { locks, BroadcastChannel: globalThis.BroadcastChannel as unknown as TabsEnvironment['BroadcastChannel'] }
    expect(tabsEnvironment(given)).toBe(given)
  })
})
