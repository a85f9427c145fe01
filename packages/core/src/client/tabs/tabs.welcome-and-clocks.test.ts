import { describe, expect, it } from 'vitest'
import { control, eventFrame } from '../../test-support/frames.js'
import { FixedUnixSeconds } from '../../testing/index.js'
import { recorded, settle, tabs } from '../../test-support/tabs-harness.js'
import type { ReceivedEvent } from '../../codec/index.js'
import { Protocol } from '../../protocol/limits.js'
import type { ConnectionStatus } from '../connection/status.js'
import type { TabsEnvironment } from './tab-support.js'
import { initialTabState, type TabEffect, type TabInput, type TabState, tabMessage, tabStep } from './tabs-machine.js'

// A welcome after live events, tabs whose clocks differ, a quick resubscribe and a quiet
// connection's metrics (a review's findings, each seen failing on the code before its fix).

await import('./tabs.js')

const T = FixedUnixSeconds
const frameOf = (...parts: string[]) => parts.map((part) => `${part}\x1f`).join('\x1f')
const memorySession = () => {
  const map = new Map<string, string>()
  return { getItem: (key: string) => map.get(key) ?? null, setItem: (key: string, value: string) => void map.set(key, value) }
}

/**
 * The tab's channels, whose posts (those `holds` picks; all by default) wait, in order, until
 * `release()` (a leader busy for a while, or its task later).
 */
const heldPosts = (holds: (message: unknown) => boolean = () => true) => {
  const waiting: Array<() => void> = []
  const wrap = (environment: TabsEnvironment): TabsEnvironment => {
    const Base = environment.BroadcastChannel
    // Posted at release on a channel of the tab's that stays open: the session's own may have closed by then.
    const relays = new Map<string, InstanceType<typeof Base>>()
    return {
      ...environment,
      BroadcastChannel: class {
        private readonly inner
        constructor(readonly name: string) {
          this.inner = new Base(name)
          if (!relays.has(name)) relays.set(name, new Base(name))
        }
        get onmessage() {
          return this.inner.onmessage
        }
        set onmessage(handler) {
          this.inner.onmessage = handler
        }
        postMessage(message: unknown) {
          if (holds(message)) waiting.push(() => relays.get(this.name)?.postMessage(message))
          else this.inner.postMessage(message)
        }
        close() {
          this.inner.close()
        }
      },
    }
  }
  return { wrap, release: () => waiting.splice(0).forEach((post) => post()) }
}

/** The tab's channel, whose hello waits until `release()`. */
const heldHello = () => heldPosts((message) => (message as { type?: string }).type === 'hello')

/**
 * A leader with sendAll (dedupe capacity 2) and a first follower (so it posts from now on), live
 * after three events e0–e2: more history than a new tab's dedupe holds.
 */
async function busySendAll() {
  const t = tabs()
  const options = { sendAll: true, dedupeCapacity: 2 }
  const leader = t.open(options)
  await settle()
  t.open(options)
  await settle()
  leader.last().handshake()
  leader.last().frame(control('done_prior', 18))
  for (const [i, eid] of ['e0', 'e1', 'e2'].entries()) leader.last().frame(eventFrame(eid, T + i))
  await settle()
  return { t, options, leader }
}

describe('sharedClient(): a welcome after live events', () => {
  it('with sendAll, does not deliver twice an event that reached the follower before its welcome, whatever the history holds', async () => {
    const { t, options, leader } = await busySendAll()
    // A tab joins: its hello reaches the leader only after the next event was posted.
    const hello = heldHello()
    const late = t.open(options, hello.wrap)
    await settle()
    leader.last().frame(eventFrame('x', T + 5))
    await settle()
    expect(late.eids()).toEqual(['x'])
    hello.release()
    await settle()
    expect(late.eids().filter((eid) => eid === 'x')).toHaveLength(1)
    expect([...late.eids()].sort()).toEqual(['e0', 'e1', 'e2', 'x'])
  })

  it("does not deliver twice an event that reached a follower back from a reload before its welcome, when the fill is longer than its dedupe", async () => {
    const t = tabs()
    const options = { dedupeCapacity: 2 }
    const leader = t.open(options)
    await settle()
    leader.last().handshake()
    const kept = memorySession()
    const follower = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    leader.last().frame(eventFrame('a', T + 1))
    await settle()
    // The follower reloads: b, c and d are published meanwhile, x once it said hello.
    follower.leave()
    await settle()
    for (const [i, eid] of ['b', 'c', 'd'].entries()) leader.last().frame(eventFrame(eid, T + 2 + i))
    await settle()
    const hello = heldHello()
    // A tab still open: the leader posts while the follower's hello waits.
    t.open(options)
    await settle()
    const back = t.open(options, (env) => hello.wrap({ ...env, session: kept }))
    await settle()
    leader.last().frame(eventFrame('x', T + 9))
    await settle()
    hello.release()
    await settle()
    expect(back.eids().filter((eid) => eid === 'x')).toHaveLength(1)
    expect([...back.eids()].sort()).toEqual(['b', 'c', 'd', 'x'])
  })
})

describe('sharedClient(): a tab whose clock differs', () => {
  it("takes over from the newest event it delivered though its clock runs an hour behind its leader's: nothing twice", async () => {
    const t = tabs()
    const options = { dedupeCapacity: 2 }
    const leader = t.open(options)
    await settle()
    leader.last().handshake()
    await settle()
    // The follower's clock: an hour behind the leader's (the same virtual clock, read differently).
    const behind = Object.assign(Object.create(t.clock) as typeof t.clock, { now: () => t.clock.now() - 3_600_000 })
    const follower = t.open({ ...options, scheduler: behind })
    await settle()
    for (const [i, eid] of ['a', 'b', 'c', 'd'].entries()) leader.last().frame(eventFrame(eid, T + 1 + i))
    await settle()
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'd'])
    leader.tab.crash()
    leader.leave()
    await settle()
    expect(follower.status()?.tabs?.role).toBe('leader')
    follower.last().handshake()
    // The server's history; the takeover passes on only what followed its mark.
    follower.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3), eventFrame('d', T + 4), eventFrame('e', T + 5)))
    follower.last().frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'd', 'e'])
  })
})

describe('sharedClient(): a follower that subscribes, leaves and subscribes again at once', () => {
  it('takes only the welcome of its current session: with sendAll, the history once', async () => {
    const { t, options, leader } = await busySendAll()
    const posts = heldPosts()
    const tab = t.open(options, posts.wrap)
    await settle()
    // Its first session's hello and goodbye, and the second's hello, reach the leader together.
    tab.leave()
    const again = recorded(tab.client)
    await settle()
    posts.release()
    await settle()
    expect(again.events.map((e) => e.m.eid)).toEqual(['e0', 'e1', 'e2'])
    expect(leader.status()?.tabs?.count).toBe(3)
  })
})

describe('sharedClient(): metrics$ in a tab that joins later', () => {
  it("shows the leader's current counts once welcomed, not zeros until the leader's connection next receives a frame", async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    leader.last().frame(eventFrame('a', T + 1))
    // The counters are published once a second after a frame.
    t.clock.advance(1_000)
    await settle()
    expect(leader.metrics.at(-1)).toMatchObject({ events: 1 })
    // The connection is quiet from here: no frame, so no publication.
    const follower = t.open()
    await settle()
    t.clock.advance(5_000)
    await settle()
    expect(follower.status()?.tabs?.role).toBe('follower')
    expect(follower.metrics.at(-1)).toEqual(leader.metrics.at(-1))
  })
})

describe('tabStep(): the same rules, sans I/O', () => {
  const live: ConnectionStatus = { state: 'live', since: 5 }
  const event = (eid: string, ts: number): ReceivedEvent => ({ m: { e: 0, eid, ts, t: -1 }, ctx: { user: '1', votes: 1 } })
  const run = (inputs: readonly TabInput[], state: TabState = initialTabState('me', 0)) => {
    const effects: TabEffect[] = []
    for (const input of inputs) {
      const result = tabStep(state, input, { resume: true })
      state = result.state
      effects.push(...result.effects)
    }
    return { state, effects, eids: effects.flatMap((e) => (e.type === 'emit' && e.item[0] === 'event' ? [e.item[1].m.eid] : [])) }
  }
  const waitingIn = (session: number): TabState => {
    const inputs: TabInput[] = [{ type: 'subscribed', at: 1 }]
    for (let s = 1; s < session; s++) inputs.push({ type: 'unsubscribed', at: 1 }, { type: 'subscribed', at: 1 })
    return run([...inputs, { type: 'keyed', at: 2, session, name: 'n' }]).state
  }

  it("ignores a welcome to its last session's hello, and says hello and goodbye by its session", () => {
    const state = waitingIn(2)
    const stale = run([{ type: 'message', at: 3, session: 2, data: { type: 'welcome', to: 'me:1', status: live, history: [event('h', 1)] } }], state)
    expect(stale.effects).toEqual([])
    expect(stale.state.known).toBe(false)
    expect(run([{ type: 'message', at: 3, session: 2, data: { type: 'welcome', to: 'me:2', status: live } }], state).state.known).toBe(true)
    expect(run([{ type: 'close', at: 3 }], state).effects[0]).toEqual({ type: 'post', message: { type: 'bye', tab: 'me:2' } })
  })

  it('skips in the history of its welcome the events posted to it since its hello, and only those', () => {
    const r = run(
      [
        { type: 'message', at: 3, session: 1, data: { type: 'out', items: [['event', event('x', 5)]] } },
        { type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me:1', status: live, history: [event('a', 1), event('x', 5)] } },
        { type: 'message', at: 4, session: 1, data: { type: 'out', items: [['event', event('y', 6)]] } },
      ],
      waitingIn(1),
    )
    expect(r.eids).toEqual(['x', 'a', 'y'])
    expect(r.state.early).toBeUndefined()
  })

  it("reads a welcome's mark in this tab's clock, from the leader's when it welcomed", () => {
    // The leader's clock reads 3,600 s later than this tab's: the server's minus this tab's is an hour more.
    const mark = { ts: 100, eid: 'x', clock: 10 }
    const welcomed = run([{ type: 'message', at: 1_000, session: 1, data: { type: 'welcome', to: 'me:1', status: live, mark, at: 3_601_000 } }], waitingIn(1))
    expect(welcomed.state.mark).toEqual({ ...mark, clock: 3_610 })
    // Without the leader's time (another version's welcome), as posted.
    expect(run([{ type: 'message', at: 1_000, session: 1, data: { type: 'welcome', to: 'me:1', status: live, mark } }], waitingIn(1)).state.mark).toEqual(mark)
  })

  it("shows the leader's counts a welcome carries, and refuses a welcome whose counts are not an object", () => {
    const metrics = { frames: 3, bytes: 9, payloads: 3, events: 1, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }
    const r = run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me:1', status: live, metrics } }], waitingIn(1))
    expect(r.effects).toContainEqual({ type: 'emit', item: ['metrics', metrics] })
    expect(tabMessage({ type: 'welcome', to: 't', status: live, metrics: 7 })).toBeUndefined()
  })
})

describe('sharedClient(): the identify budget a leader posts, read by a tab whose clock differs', () => {
  const cooldown = async (offsetMs: number) => {
    const t = tabs()
    // Not at 0: a budget rebased by adding the leader's clock instead of subtracting it would
    // read the same there (a mutant that survived).
    t.clock.advance(123_456)
    const leader = t.open()
    await settle()
    const skewed = Object.assign(Object.create(t.clock) as typeof t.clock, { now: () => t.clock.now() + offsetMs })
    const follower = t.open({ scheduler: skewed })
    await settle()
    leader.last().open().closeFromServer(4012, 'Ratelimited')
    await settle()
    leader.tab.crash()
    leader.leave()
    await settle()
    expect(follower.status()?.tabs?.role).toBe('leader')
    return { t, follower }
  }

  it("waits out the leader's 4012 cooldown for a window, not an hour more, when its clock runs an hour behind", async () => {
    const { t, follower } = await cooldown(-3_600_000)
    expect(follower.sockets).toHaveLength(0)
    t.clock.advance(Protocol.rateWindowMs)
    await settle()
    expect(follower.sockets).toHaveLength(1)
  })

  it("does not identify into the leader's 4012 cooldown when its clock runs an hour ahead", async () => {
    const { t, follower } = await cooldown(3_600_000)
    expect(follower.sockets).toHaveLength(0)
    t.clock.advance(Protocol.rateWindowMs)
    await settle()
    expect(follower.sockets).toHaveLength(1)
  })
})
