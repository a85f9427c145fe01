import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Clock, eventFrame, fakeWebSockets } from '../../test-support/frames.js'
import { harness, id, token } from '../../test-support/virtual-client.js'
import type { PersistStore } from '../persist/persist-support.js'

// A client whose chunk (persist, shareAcrossTabs) is still loading is a client already: its
// streams wait for the loaded one, and so do close() and reconnect(). And a chunk that fails to
// load costs its feature, never the connection.

/** A store in memory that counts its writes. */
function memoryStore() {
  let writes = 0
  const store: PersistStore = {
    getItem: () => null,
    setItem: () => {
      writes += 1
    },
  }
  return { store, writes: () => writes }
}

/** Real promises (the chunk's import, the digest, the store) in virtual time: let them settle. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

describe('connect() while its chunk loads', () => {
  // The chunk imported once beforehand, so that the client's own import settles in a few turns
  // (vitest's module runner is slow to answer the first) and a test can wait for it to be there.
  beforeEach(async () => {
    await import('../persist/persist.js')
  })

  it('takes close() before the chunk is there without a throw, and closes once it is', async () => {
    const page = harness({ persist: memoryStore().store })
    expect(page.sockets).toHaveLength(0)
    expect(() => page.client.close()).not.toThrow()
    await settle()
    expect(page.state()).toBe('closed')
    expect(page.sockets).toHaveLength(0)
    expect(page.states()).toContain('closed')
  })

  it('opens nothing for a subscriber that left before the chunk was there', async () => {
    const page = harness({ persist: memoryStore().store })
    page.leave()
    await settle()
    expect(page.sockets).toHaveLength(0)
    // And a subscriber that comes later is served by the loaded client.
    const statuses: string[] = []
    const again = page.client.status$.subscribe((status) => statuses.push(status.state))
    // (The persist layer reads its record first: a real promise.)
    await settle()
    expect(page.sockets).toHaveLength(1)
    page.last().handshake()
    expect(statuses.at(-1)).toBe('live')
    again.unsubscribe()
  })
})

describe('connect() when its chunk fails to load (a flaky network, a new deployment)', () => {
  afterEach(() => {
    vi.doUnmock('../persist/persist.js')
    vi.doUnmock('../tabs/tabs.js')
  })

  it('persist: connects as if not persisted, and writes nothing', async () => {
    vi.doMock('../persist/persist.js', () => {
      throw new Error('Failed to fetch dynamically imported module')
    })
    const { store, writes } = memoryStore()
    const page = harness({ persist: store })
    // A dynamic import that fails settles at its own pace (the module runner asks the main thread).
    await vi.waitFor(() => expect(page.sockets).toHaveLength(1), { timeout: 5_000 })
    page.last().handshake().frame(eventFrame('a', 2))
    expect(page.state()).toBe('live')
    expect(page.eids()).toEqual(['a'])
    await settle()
    expect(writes()).toBe(0)
    page.leave()
  })

  it('shareAcrossTabs: connects on its own, as a tab that shares with nobody', async () => {
    vi.doMock('../tabs/tabs.js', () => {
      throw new Error('Failed to fetch dynamically imported module')
    })
    const page = harness({ shareAcrossTabs: true })
    await vi.waitFor(() => expect(page.sockets).toHaveLength(1), { timeout: 5_000 })
    page.last().handshake()
    expect(page.state()).toBe('live')
    expect(page.status().tabs).toBeUndefined()
    page.leave()
  })

  it('shareAcrossTabs: a subscriber that left before the fallback was there opens no socket, not even for a moment', async () => {
    vi.doMock('../tabs/tabs.js', () => {
      throw new Error('Failed to fetch dynamically imported module')
    })
    const page = harness({ shareAcrossTabs: true })
    page.leave()
    const again = page.client.status$.subscribe(() => undefined)
    await vi.waitFor(() => expect(page.sockets.length).toBeGreaterThan(0), { timeout: 5_000 })
    await settle()
    // One socket, the later subscriber's: the one who left was never subscribed to the fallback
    // (it would open and close one at once, as rxjs ends a subscription to a closed subscriber).
    expect(page.sockets).toHaveLength(1)
    expect(page.last().closedByClient).toBeUndefined()
    again.unsubscribe()
  })
})

describe('connect() when the checks chunk fails to load', () => {
  afterEach(() => {
    vi.doUnmock('../../operators/context-check.js')
  })

  it('delivers the events unchecked: the check is lost, never an event and never the stream', async () => {
    let asked = false
    vi.doMock('../../operators/context-check.js', () => {
      asked = true
      throw new Error('Failed to fetch dynamically imported module')
    })
    // A fresh connect.js: the chunk is loaded once per page (per module instance).
    vi.resetModules()
    const { connect: fresh } = await import('./connect.js')
    const fakes = fakeWebSockets()
    const client = fresh({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: new Clock() })
    const eids: (string | undefined)[] = []
    const diagnostics: unknown[] = []
    const subscriptions = [client.event$.subscribe((event) => eids.push(event.m.eid)), client.diagnostic$.subscribe((d) => diagnostics.push(d))]
    fakes.last().handshake().frame(eventFrame('a', 2))
    await vi.waitFor(() => expect(asked).toBe(true), { timeout: 5_000 })
    await settle()
    fakes.last().frame(eventFrame('b', 3))
    await settle()
    expect(eids).toEqual(['a', 'b'])
    expect(diagnostics).toEqual([])
    for (const subscription of subscriptions) subscription.unsubscribe()
  })
})

describe('connect() with shareAcrossTabs: false', () => {
  it('is the unshared client itself: no chunk to wait for, the socket opens at the first subscription', () => {
    const page = harness({ shareAcrossTabs: false })
    expect(page.sockets).toHaveLength(1)
    page.last().handshake()
    expect(page.status()).toMatchObject({ state: 'live' })
    expect(page.status().tabs).toBeUndefined()
    page.leave()
  })
})
