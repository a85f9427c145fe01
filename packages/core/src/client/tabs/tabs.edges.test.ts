import { take } from 'rxjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { control, eventFrame } from '../../test-support/frames.js'
import { FixedUnixSeconds, memoryBrowser, type MemoryBrowser } from '../../testing/index.js'
import { Clock, fakeWebSockets } from '../../test-support/frames.js'
import { digest, id, leaderAndFollower, recorded, settle, tabs, token } from '../../test-support/tabs-harness.js'
import { connect } from '../connection/connect.js'
import type { TabsEnvironment } from './tab-support.js'
import { TabsRecountMs } from './tabs-machine.js'

// The edges of tabs.ts, the interpreter of the tabs' election: what crosses the channel (every
// stream, batched per task), the counts it takes from the lock manager, the tab that leads
// alone when the identity cannot be digested, and a lock granted to a tab that has left.
// The same harness as connect.tabs.test.ts (test-support/tabs-harness.ts): memory locks and
// channels, fake sockets per tab, a virtual clock, all six streams of each tab recorded.

await import('./tabs.js')

const T = FixedUnixSeconds
const frameOf = (...parts: string[]) => parts.map((part) => `${part}\x1f`).join('\x1f')

/** The 'out' messages posted on the channels so far. */
const outs = (browser: MemoryBrowser) =>
  browser.posted.map((p) => p.message as { type: string; items?: unknown[] }).filter((m) => m.type === 'out')

describe('sharedClient(): what crosses the channel', () => {
  it('a leader whose last subscriber leaves inside next() still hands that event to the followers, and posts nothing on its closed channel', async () => {
    // `event$.pipe(take(1))` as the leader's last subscription: it leaves in the same task as
    // it broadcast the event. The batch goes out before the channel closes (a browser throws
    // InvalidStateError on a post after close(); the memory channel does too).
    const { t, leader, follower } = await leaderAndFollower()
    leader.last().handshake()
    leader.last().frame(control('done_prior', 17))
    await settle()
    leader.client.event$.pipe(take(1)).subscribe()
    // (The client's streams subscribe once its sharing chunk has answered: a turn later.)
    await settle()
    leader.leave()
    const sockets = leader.sockets.length
    leader.last().frame(eventFrame('last', T + 2))
    await settle()
    // The leader left with that event (its socket closed, no new one), and the follower has it.
    expect(leader.sockets).toHaveLength(sockets)
    expect(leader.last().closedByClient?.code).toBe(1000)
    expect(follower.eids()).toEqual(['last'])
  })

  it("ignores what a tab of another version, or a broken one, posts: the follower's streams live on", async () => {
    const { t, leader, follower } = await leaderAndFollower()
    leader.last().handshake()
    await settle()
    // The follower's hello, the last one posted: the welcome below is addressed to it.
    const hello = t.browser.posted.filter((p) => (p.message as { type?: string }).type === 'hello').at(-1)
    const me = (hello?.message as { tab: string }).tab
    const rogue = new (t.browser.tab().environment.BroadcastChannel)(hello?.channel as string)
    // An event without `m` (the follower's dedupe reads it), one that is not an object, a
    // control without its payload (the machine reads it), and a welcome whose history and mark
    // are not what this version posts: each threw uncaught errors in the follower's page.
    rogue.postMessage({ type: 'out', items: [['event', { ctx: {} }]] })
    rogue.postMessage({ type: 'out', items: [['event', 'x'], ['control']] })
    rogue.postMessage({ type: 'welcome', to: me, status: { state: 'live', since: 0 }, history: 'x', mark: null })
    await settle()
    leader.last().frame(eventFrame('after', T + 1))
    await settle()
    expect(follower.eids()).toEqual(['after'])
    expect(follower.statuses.at(-1)).toMatchObject({ state: 'live', tabs: { role: 'follower' } })
  })

  it("forwards every stream of the leader's client to a follower, not only events and statuses", async () => {
    const { t, leader, follower } = await leaderAndFollower()
    // Before anything happened, metrics$ starts at zero in every tab, as an unshared client's does.
    const zero = { frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }
    expect(leader.metrics[0]).toEqual(zero)
    expect(follower.metrics[0]).toEqual(zero)
    leader.last().handshake()
    leader.last().frame(eventFrame('a', T + 1)).frame('{"not":"a payload"}').frame(control('done_prior', 17))
    // The counters are published once a second.
    t.clock.advance(1_000)
    await settle()
    expect(follower.eids()).toEqual(['a'])
    // The follower reads the leader's frames, controls, diagnostics and counters, as they were.
    expect(leader.frames.length).toBeGreaterThanOrEqual(5)
    expect(follower.frames).toEqual(leader.frames)
    expect(leader.controls.map((c) => c.code)).toEqual(['identity', 'ready', 'done_prior'])
    expect(follower.controls).toEqual(leader.controls)
    expect(leader.diagnostics).toHaveLength(1)
    expect(follower.diagnostics).toEqual(leader.diagnostics)
    expect(leader.metrics.at(-1)).toMatchObject({ frames: leader.frames.length, events: 1, diagnostics: 1 })
    expect(follower.metrics.at(-1)).toEqual(leader.metrics.at(-1))
  })

  it("never shows the leader's own client's replayed 'closed' (from before it opened)", async () => {
    const t = tabs()
    const leader = t.open()
    const follower = t.open()
    await settle()
    leader.last().handshake()
    await settle()
    // closed (not opened yet), then looking, then the own client's connecting and live: no
    // second 'closed' in between, in the leader or the follower.
    for (const tab of [leader, follower]) {
      expect(tab.statuses[0]?.state).toBe('closed')
      expect(tab.statuses.slice(1).map((s) => s.state)).not.toContain('closed')
      expect(tab.status()?.state).toBe('live')
    }
  })

  it('posts what the leader emits in one task as one message, and the next task as the next', async () => {
    const t = tabs()
    const leader = t.open()
    const follower = t.open()
    await settle()
    leader.last().handshake()
    await settle()
    const before = outs(t.browser).length
    // A frame of three events, its frame and its counters: one message.
    leader.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3)))
    await settle()
    leader.last().frame(eventFrame('d', T + 4))
    await settle()
    const posted = outs(t.browser).slice(before)
    expect(posted).toHaveLength(2)
    const kinds = posted.map((m) => (m.items ?? []).map((item) => (item as unknown[])[0]))
    expect(kinds[0]?.filter((kind) => kind === 'event')).toHaveLength(3)
    expect(kinds[1]?.filter((kind) => kind === 'event')).toHaveLength(1)
    // Every item is one of the six streams' (nothing else rides along).
    for (const kind of kinds.flat()) expect(['status', 'control', 'event', 'diagnostic', 'frame', 'metrics']).toContain(kind)
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'd'])
  })

  it("welcomes only the tab that said hello: a follower already there is not handed the history again", async () => {
    const t = tabs()
    // A dedupe of two: a second welcome's history would come back past it.
    const options = { sendAll: true, dedupeCapacity: 2 }
    const leader = t.open(options)
    await settle()
    const early = t.open(options)
    await settle()
    leader.last().handshake()
    leader.last().frame(control('done_prior', 18))
    for (const [i, eid] of ['e0', 'e1', 'e2', 'e3'].entries()) leader.last().frame(eventFrame(eid, T + i))
    await settle()
    expect(early.eids()).toEqual(['e0', 'e1', 'e2', 'e3'])
    const late = t.open(options)
    await settle()
    expect(late.eids()).toEqual(['e0', 'e1', 'e2', 'e3'])
    expect(early.eids()).toEqual(['e0', 'e1', 'e2', 'e3'])
  })

  it("deduplicates in each tab over dedupeCapacity IDs, as an unshared client does", async () => {
    const t = tabs()
    const leader = t.open({ dedupeCapacity: 2 })
    const follower = t.open({ dedupeCapacity: 2 })
    await settle()
    leader.last().handshake()
    // 'a' again, three IDs later: forgotten by a dedupe of two, so it passes (a newer copy).
    for (const [i, eid] of ['a', 'b', 'c', 'a'].entries()) leader.last().frame(eventFrame(eid, T + i))
    // 'c' again, right after: still remembered.
    leader.last().frame(eventFrame('c', T + 9))
    await settle()
    expect(leader.eids()).toEqual(['a', 'b', 'c', 'a'])
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'a'])
  })
})

describe('sharedClient(): reconnect()', () => {
  it("reconnects the leader's own client, whether the leader or a follower asks", async () => {
    const t = tabs()
    const leader = t.open()
    const follower = t.open()
    await settle()
    leader.last().handshake()
    await settle()
    expect(leader.sockets).toHaveLength(1)
    // A follower has no socket: it asks the leader over the channel.
    follower.client.reconnect()
    await settle()
    expect(leader.sockets[0]?.closedByClient).toBeDefined()
    t.clock.advance(0)
    await settle()
    expect(leader.sockets).toHaveLength(2)
    expect(follower.sockets).toHaveLength(0)
    leader.last().handshake()
    await settle()
    leader.client.reconnect()
    await settle()
    t.clock.advance(0)
    await settle()
    expect(leader.sockets[1]?.closedByClient).toBeDefined()
    expect(leader.sockets).toHaveLength(3)
    expect(follower.sockets).toHaveLength(0)
  })
})

describe('sharedClient(): counting the tabs', () => {
  it('counts the tabs waiting for the lock at each recount, once the hellos are forgotten', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    const followers = [t.open(), t.open()]
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 3 })
    // A recount forgets who said hello: the count now rests on the lock's queue alone.
    t.clock.advance(TabsRecountMs)
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 3 })
    for (const follower of followers) expect(follower.status()?.tabs).toEqual({ role: 'follower', count: 3 })
  })

  it('counts by the hellos where the lock manager lists no queue', async () => {
    const t = tabs()
    // A lock manager whose snapshot has no `pending` (the field is optional in the spec).
    const noQueue = (environment: TabsEnvironment): TabsEnvironment => ({
      ...environment,
      locks: { request: environment.locks.request.bind(environment.locks), query: () => Promise.resolve({}) },
    })
    const leader = t.open({}, noQueue)
    await settle()
    leader.last().handshake()
    const follower = t.open({}, noQueue)
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 2 })
    follower.leave()
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 1 })
  })

  it('drops a count answered after the tab left, and throws nothing', async () => {
    const unhandled: unknown[] = []
    const note = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', note)
    try {
      const t = tabs()
      // The leader's lock manager answers its counts only when the test says so.
      const answers: Array<() => void> = []
      const slow = (environment: TabsEnvironment): TabsEnvironment => ({
        ...environment,
        locks: {
          request: environment.locks.request.bind(environment.locks),
          query: () => new Promise((resolve) => answers.push(() => resolve(environment.locks.query()))),
        },
      })
      const leader = t.open({}, slow)
      await settle()
      leader.last().handshake()
      const follower = t.open()
      await settle()
      expect(answers.length).toBeGreaterThan(0)
      leader.leave()
      for (const answer of answers) answer()
      await settle()
      expect(unhandled).toEqual([])
      expect(follower.status()?.tabs).toEqual({ role: 'leader', count: 1 })
    } finally {
      process.off('unhandledRejection', note)
    }
  })
})

describe('sharedClient(): the lock', () => {
  it('passes the lock on when it is granted to a tab that has just left', async () => {
    const t = tabs()
    const [first, second, third] = [t.open(), t.open(), t.open()]
    await settle()
    expect(first.status()?.tabs?.role).toBe('leader')
    // The leader crashes: the lock goes to the second tab, which leaves in the same task.
    first.tab.crash()
    first.leave()
    second.leave()
    await settle()
    expect(second.sockets).toHaveLength(0)
    expect(third.sockets).toHaveLength(1)
    expect(third.status()?.tabs).toEqual({ role: 'leader', count: 1 })
  })
})

describe('sharedClient(): a tab that leads alone', () => {
  it('leads with its own client, unshared, when the identity cannot be digested, and leaves cleanly', async () => {
    const t = tabs()
    const failing = (environment: TabsEnvironment): TabsEnvironment => ({
      ...environment,
      digest: () => Promise.reject(new Error('no crypto.subtle here')),
    })
    const [a, b] = [t.open({}, failing), t.open({}, failing)]
    await settle()
    // No name, no channel: each tab leads on its own.
    expect(t.browser.channels).toEqual([])
    for (const tab of [a, b]) {
      expect(tab.sockets).toHaveLength(1)
      expect(tab.status()?.tabs).toEqual({ role: 'leader', count: 1 })
    }
    a.last().handshake().frame(eventFrame('x', T + 1))
    await settle()
    expect(a.eids()).toEqual(['x'])
    expect(b.eids()).toEqual([])
    // Leaving without a channel to close.
    a.leave()
    expect(a.last().closedByClient?.code).toBe(1000)
  })

  it('leads alone when an option function throws while the identity is read', async () => {
    const t = tabs()
    let reads = 0
    // The first read (the identity's) throws; the own client's reads succeed.
    const flaky = () => {
      if (reads++ === 0) throw new Error('not yet')
      return token
    }
    const tab = t.open({ token: flaky })
    await settle()
    expect(t.browser.channels).toEqual([])
    expect(tab.sockets).toHaveLength(1)
    expect(tab.status()?.tabs).toEqual({ role: 'leader', count: 1 })
    tab.last().handshake()
    expect(tab.status()?.state).toBe('live')
  })
})

describe('shareAcrossTabs({ worker }): a worker chunk that fails to load', () => {
  // The chunk of the worker's port (port.js) fails to import, as after a new deployment: the
  // fallback decides, as it does when there is no SharedWorker.
  const failing = () => {
    vi.doMock('./port.js', () => {
      throw new Error('Failed to fetch dynamically imported module')
    })
  }
  afterEach(() => {
    vi.doUnmock('./port.js')
  })
  const worker = () => {
    throw new Error('never asked: the chunk that would ask failed')
  }
  const open = (fallback: boolean | TabsEnvironment | undefined) => {
    const fakes = fakeWebSockets()
    const client = connect({
      url: 'ws://127.0.0.1:9/ws',
      id,
      token,
      WebSocket: fakes.WebSocket,
      scheduler: new Clock(),
      shareAcrossTabs: fallback === undefined ? { worker } : { worker, fallback },
    })
    return { ...fakes, ...recorded(client) }
  }
  const last = (tab: ReturnType<typeof open>) => tab.statuses.at(-1)

  it('elects among the tabs with a fallback environment', async () => {
    failing()
    const browser = memoryBrowser()
    const tab = open({ ...browser.tab().environment, digest })
    // A dynamic import that fails settles at its own pace (the module runner asks the main thread).
    await vi.waitFor(() => expect(tab.sockets.length).toBeGreaterThan(0), { timeout: 5_000 })
    await settle()
    expect(tab.sockets).toHaveLength(1)
    expect(last(tab)?.tabs).toEqual({ role: 'leader', count: 1 })
    expect(browser.channels).toHaveLength(1)
    tab.leave()
  })

  it('gives the tab its own connection with fallback: false', async () => {
    failing()
    const tab = open(false)
    // A dynamic import that fails settles at its own pace (the module runner asks the main thread).
    await vi.waitFor(() => expect(tab.sockets.length).toBeGreaterThan(0), { timeout: 5_000 })
    await settle()
    expect(tab.sockets).toHaveLength(1)
    expect(last(tab)).toMatchObject({ state: 'connecting' })
    expect(last(tab)?.tabs).toBeUndefined()
    expect(last(tab)?.detail ?? '').not.toMatch(/shared/)
    tab.leave()
  })

  it('elects as with true by default, which Node cannot, and says why', async () => {
    failing()
    const tab = open(undefined)
    // A dynamic import that fails settles at its own pace (the module runner asks the main thread).
    await vi.waitFor(() => expect(tab.sockets.length).toBeGreaterThan(0), { timeout: 5_000 })
    await settle()
    expect(tab.sockets).toHaveLength(1)
    expect(last(tab)?.detail).toMatch(/Not shared across tabs: .*Web Locks/)
    tab.leave()
  })
})
