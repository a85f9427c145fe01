import { take } from 'rxjs'
import { describe, expect, it, vi } from 'vitest'
import { Clock, eventFrame, fakeWebSockets } from '../../test-support/frames.js'
import { harness, id, token } from '../../test-support/virtual-client.js'
import type { ConnectionMetrics } from './metrics.js'
import { connect } from './connect.js'

/** Real promises (the chunk's import) in virtual time: let them settle. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

describe('connect(): a subscriber that only reads the current status opens nothing', () => {
  // `persist: true` in Node (no localStorage) and `shareAcrossTabs: true` in Node (no Web Locks)
  // give the client with a note in every status (noted.ts): the same promise as without them.
  it.each([{ persist: true as const }, { shareAcrossTabs: true as const }])('with %o where it cannot be honoured', async (extra) => {
    await import('../persist/persist.js')
    await import('../tabs/tabs.js')
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: new Clock(), ...extra })
    await settle()
    const states: string[] = []
    client.status$.pipe(take(1)).subscribe((s) => states.push(s.state))
    await settle()
    expect(states).toEqual(['closed'])
    expect(fakes.sockets).toHaveLength(0)
  })
})

describe('metrics$ tells what happened', () => {
  const mistyped = '{"m":{"e":0,"eid":"bad-1","ts":1},"ctx":{"user":"1","votes":"lots"}}'

  it('counts a ctx mismatch reported once the checks chunk has loaded, after the throttle already fired', async () => {
    // A fresh connect.js: its checks chunk is not there yet (as on a slow network).
    vi.resetModules()
    const { connect: fresh } = await import('./connect.js')
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = fresh({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock })
    let metrics: ConnectionMetrics | undefined
    const diagnostics: string[] = []
    const subscriptions = [client.metrics$.subscribe((m) => (metrics = m)), client.diagnostic$.subscribe((d) => diagnostics.push(d.kind))]
    fakes.last().handshake().frame(mistyped)
    clock.advance(5_000)
    expect(metrics?.events).toBe(1)
    await vi.waitFor(() => expect(diagnostics).toEqual(['ctx-mismatch']), { timeout: 5_000 })
    clock.advance(60_000)
    expect(metrics?.diagnostics).toBe(1)
    for (const subscription of subscriptions) subscription.unsubscribe()
  })

  it('replays the current counters to a new subscriber, not those of the last status', () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(eventFrame('a', 2)).frame(eventFrame('b', 3))
    let replayed: ConnectionMetrics | undefined
    h.client.metrics$.pipe(take(1)).subscribe((m) => (replayed = m))
    h.clock.advance(5_000)
    expect(h.metrics()).toMatchObject({ frames: 4, events: 2 })
    expect(replayed).toMatchObject({ frames: 4, events: 2 })
    h.leave()
  })
})

describe('connect(): the page\'s listeners after close()', () => {
  /** A page whose listeners are counted by type. */
  function countedPage() {
    const target = new EventTarget()
    // By type, each listener once, as an EventTarget keeps them.
    const listening = new Map<string, Set<EventListener>>()
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
    g.addEventListener = (type: string, listener: EventListener) => {
      listening.set(type, (listening.get(type) ?? new Set()).add(listener))
      target.addEventListener(type, listener)
    }
    g.removeEventListener = (type: string, listener: EventListener) => {
      listening.get(type)?.delete(listener)
      target.removeEventListener(type, listener)
    }
    const restore = (): void => {
      delete g.addEventListener
      delete g.removeEventListener
    }
    return { target, listening, restore }
  }

  it('holds none for a closed client whose subscribers never left (the page would keep it, and them, alive), and listens again after reconnect()', () => {
    const page = countedPage()
    try {
      const h = harness({ backoff: { initialDelayMs: 60_000 } })
      h.last().handshake()
      h.client.close()
      expect(h.state()).toBe('closed')
      expect([...page.listening.values()].every((set) => set.size === 0)).toBe(true)
      // reconnect(): the page coming back online skips the backoff again.
      h.client.reconnect()
      h.last().handshake()
      h.last().closeFromServer(1006)
      expect(h.state()).toBe('reconnecting')
      page.target.dispatchEvent(new Event('online'))
      expect(h.state()).toBe('connecting')
      expect(h.sockets).toHaveLength(3)
      h.leave()
      expect([...page.listening.values()].every((set) => set.size === 0)).toBe(true)
    } finally {
      page.restore()
    }
  })

  it('holds none for a client that failed', () => {
    const page = countedPage()
    try {
      const h = harness()
      h.last().handshake()
      h.last().closeFromServer(4004)
      expect(h.state()).toBe('failed')
      expect([...page.listening.values()].every((set) => set.size === 0)).toBe(true)
      h.leave()
    } finally {
      page.restore()
    }
  })
})
