import { describe, expect, it } from 'vitest'
import { eventFrame } from '../../test-support/frames.js'
import { FixedUnixSeconds } from '../../testing/index.js'
import { settle, tabs, token } from '../../test-support/tabs-harness.js'
import { Protocol } from '../../protocol/limits.js'
import type { TabsEnvironment } from './tab-support.js'

// The election where the browser refuses its lock, and the identify budget across takeovers (a
// review's findings, each seen failing on the code before its fix).

await import('./tabs.js')

const T = FixedUnixSeconds
type Tab = ReturnType<ReturnType<typeof tabs>['open']>
const identifies = (all: readonly Tab[]) => all.flatMap((tab) => tab.sockets).flatMap((socket) => socket.sent.filter((text) => text.includes(token)))

describe('sharedClient(): a lock the browser refuses', () => {
  it('leads alone, unshared, when the browser refuses the Web Lock (an opaque origin: SecurityError), rather than waiting forever', async () => {
    const t = tabs()
    const refusing = (environment: TabsEnvironment): TabsEnvironment => ({
      ...environment,
      locks: {
        request: () => Promise.reject(new DOMException('The request was denied.', 'SecurityError')),
        query: () => Promise.reject(new DOMException('The request was denied.', 'SecurityError')),
      },
    })
    const tab = t.open({}, refusing)
    await settle()
    expect(tab.sockets).toHaveLength(1)
    expect(tab.status()?.tabs).toEqual({ role: 'leader', count: 1 })
    tab.last().handshake().frame(eventFrame('x', T + 1))
    await settle()
    expect(tab.status()?.state).toBe('live')
    expect(tab.eids()).toEqual(['x'])
    tab.leave()
    expect(tab.last().closedByClient?.code).toBe(1000)
  })
})

describe('sharedClient(): the identify budget across a takeover', () => {
  it('does not identify during the ratelimit cooldown (4012) the leader was waiting out when it left', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    const follower = t.open()
    await settle()
    leader.last().open().closeFromServer(4012, 'Ratelimited')
    await settle()
    expect(follower.status()).toMatchObject({ state: 'reconnecting', close: { code: 4012 } })
    // The user reloads the leader's tab: the follower takes over.
    leader.tab.crash()
    leader.leave()
    await settle()
    expect(follower.status()?.tabs?.role).toBe('leader')
    // Another identify before the window passes only extends the ban: it waits instead.
    expect(follower.sockets).toHaveLength(0)
    t.clock.advance(Protocol.rateWindowMs)
    await settle()
    expect(follower.sockets).toHaveLength(1)
  })

  it('knows what the leaders before it spent: a third takeover in a window with no requests left waits for the window', async () => {
    const t = tabs()
    const all = [t.open(), t.open(), t.open()]
    await settle()
    const [a, b, c] = all as [Tab, Tab, Tab]
    // The server says 2 requests are left after a's identify: one more identify, then none.
    a.last().handshake(Protocol.identifyCost)
    await settle()
    a.tab.crash()
    a.leave()
    await settle()
    b.last().handshake(0)
    await settle()
    expect(c.status()?.tabs?.role).toBe('follower')
    b.tab.crash()
    b.leave()
    await settle()
    // c would be refused (4012): it waits for the window, and says why.
    expect(c.sockets).toHaveLength(0)
    expect(c.status()?.detail).toMatch(/0 requests left in the ratelimit window/)
    expect(identifies(all)).toHaveLength(2)
    t.clock.advance(Protocol.rateWindowMs)
    await settle()
    expect(c.sockets).toHaveLength(1)
  })
})
