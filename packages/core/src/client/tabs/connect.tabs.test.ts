import { describe, expect, it } from 'vitest'
import { control, eventFrame, identityFrame } from '../../test-support/frames.js'
import { controlPayload, FixedUnixSeconds, joinFrames, memoryBrowser } from '../../testing/index.js'
import { Clock, fakeWebSockets } from '../../test-support/frames.js'
import { digest, id, leaderAndFollower, recorded, settle, tabs, token } from '../../test-support/tabs-harness.js'
import { Protocol } from '../../protocol/limits.js'
import { connect } from '../connection/connect.js'
import type { ConnectionStatus } from '../connection/status.js'
import { TabsRecountMs } from './tabs-machine.js'
import { recordText } from '../persist/persist.js'
import type { PersistStore } from '../persist/persist-support.js'

// connect() imports the sharing chunk when asked for it; loaded here first, so that every
// test's settle() starts from a loaded chunk (the first import transforms it, in vitest).
await import('./tabs.js')

// Tabs sharing one connection, in memory: the harness in test-support/tabs-harness.ts.
const T = FixedUnixSeconds
/**
 * Settles until `done()` holds, for up to 5 s by the clock: crypto.subtle digests in the thread
 * pool, at its own pace, which a busy machine slows (500 turns of the loop were not always enough).
 */
const until = async (done: () => boolean): Promise<void> => {
  const end = Date.now() + 5_000
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 1))
}
const frameOf = (...parts: string[]) => parts.map((part) => `${part}\x1f`).join('\x1f')

type Tab = ReturnType<ReturnType<typeof tabs>['open']>
/** A browser whose first tab is open, every tab persisting to `store`. */
const tabsOpen = (store: PersistStore) => {
  const t = tabs()
  return { first: t.open({ persist: store }), open: () => t.open({ persist: store }) }
}
/** A tab's sessionStorage, which its reload keeps. */
const memorySession = () => {
  const map = new Map<string, string>()
  return { map, getItem: (key: string) => map.get(key) ?? null, setItem: (key: string, value: string) => void map.set(key, value) }
}
const socketsOf = (all: readonly Tab[]) => all.flatMap((tab) => tab.sockets)
const leaderOf = (all: readonly Tab[]) => {
  const leaders = all.filter((tab) => tab.status()?.tabs?.role === 'leader')
  expect(leaders).toHaveLength(1)
  return leaders[0] as Tab
}
const identifies = (all: readonly Tab[]) => socketsOf(all).flatMap((socket) => socket.sent.filter((text) => text.includes(token)))

describe('connect({ shareAcrossTabs })', () => {
  it('gives five tabs one socket and one identify, and every tab every event once', async () => {
    const t = tabs()
    const all = [t.open()]
    await settle()
    all.push(t.open(), t.open(), t.open(), t.open())
    await settle()
    expect(socketsOf(all)).toHaveLength(1)
    const leader = leaderOf(all)
    expect(leader).toBe(all[0])
    leader.last().handshake()
    await settle()
    leader.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2))).frame(eventFrame('a', T + 1))
    await settle()
    for (const tab of all) {
      expect(tab.eids()).toEqual(['a', 'b'])
      expect(tab.status()).toMatchObject({ state: 'live', tabs: { count: 5 } })
    }
    expect(all.map((tab) => tab.status()?.tabs?.role)).toEqual(['leader', 'follower', 'follower', 'follower', 'follower'])
    expect(identifies(all)).toHaveLength(1)
  })

  it('hands over when the leader leaves: one identify, the gap filled, nothing twice in any tab', async () => {
    const t = tabs()
    const all = [t.open(), t.open(), t.open()]
    await settle()
    const first = leaderOf(all)
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    // 'b' reaches the leader; the leader leaves before posting it (it crashes mid-task).
    first.last().frame(eventFrame('b', T + 2))
    first.tab.crash()
    first.leave()
    await settle()
    const rest = all.filter((tab) => tab !== first)
    const next = leaderOf(rest)
    expect(socketsOf(rest)).toHaveLength(1)
    expect(next.statuses.map((s) => s.detail)).toContain('The tab that held the connection left: this tab takes it over and fills the gap.')
    next.last().handshake()
    // The takeover's first connection asks for the history to fill the gap.
    expect(JSON.parse(next.last().sent.at(-1) ?? '{}')).toMatchObject({ send_all: true })
    await settle()
    next.last().frame(frameOf(eventFrame('old', T - 5), eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3)))
    next.last().frame(control('done_prior', 16))
    next.last().frame(eventFrame('d', T + 4))
    await settle()
    for (const tab of rest) {
      expect(tab.eids()).toEqual(['a', 'b', 'c', 'd'])
      expect(tab.events.filter((e) => e.resumed === true).map((e) => e.m.eid)).toEqual(['b', 'c'])
      expect(tab.status()).toMatchObject({ state: 'live', tabs: { count: 2 } })
    }
    expect(identifies(rest)).toHaveLength(1)
  })

  it('resumes a takeover from where the leader was when the follower joined, if it saw no event since', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    leader.last().frame(eventFrame('before', T + 1))
    const follower = t.open()
    await settle()
    expect(follower.eids()).toEqual([])
    leader.tab.crash()
    leader.leave()
    await settle()
    follower.last().handshake()
    follower.last().frame(frameOf(eventFrame('before', T + 1), eventFrame('during', T + 2))).frame(control('done_prior', 16))
    expect(follower.eids()).toEqual(['during'])
    expect(follower.events[0]?.resumed).toBe(true)
  })

  it('resumes a takeover from where a replay the leader did not finish began: a replay comes in any order', async () => {
    // Delivered as it comes (a replay held for order is delivered only once whole).
    const { t, leader, follower } = await leaderAndFollower({ orderReplay: false })
    leader.last().handshake()
    leader.last().frame(eventFrame('a', T + 1))
    await settle()
    // The leader's socket drops; its resume gets c of the gap (b, c), which every tab
    // delivers, and drops again. Then the leader's tab goes before its next replay is whole.
    leader.last().closeFromServer(1006)
    t.clock.advance(1000)
    await settle()
    leader.last().handshake()
    leader.last().frame(eventFrame('c', T + 3))
    leader.last().closeFromServer(1006)
    await settle()
    expect(follower.eids()).toEqual(['a', 'c'])
    leader.tab.crash()
    leader.leave()
    await settle()
    follower.last().handshake()
    follower.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3))).frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['a', 'c', 'b'])
  })

  it('counts a replay the leader finished at its done_prior, with no live event after it: a takeover does not ask for it again', async () => {
    const { t, leader, follower } = await leaderAndFollower()
    leader.last().handshake()
    leader.last().frame(eventFrame('a', T + 1))
    // The leader's socket drops; its resume fills the gap (b, c) whole, and nothing live follows.
    leader.last().closeFromServer(1006)
    t.clock.advance(1000)
    await settle()
    leader.last().handshake()
    leader.last().frame(frameOf(eventFrame('c', T + 3), eventFrame('b', T + 2))).frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['a', 'b', 'c'])
    expect(follower.controls.at(-1)?.code).toBe('done_prior')
    leader.tab.crash()
    leader.leave()
    await settle()
    // The takeover resumes after c: the server's history up to it is the tab's already.
    follower.last().handshake()
    follower.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3), eventFrame('d', T + 4))).frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'd'])
    expect(follower.metrics.at(-1)).toMatchObject({ resumed: 1, duplicates: 0 })
  })

  it('resumes a takeover from the leader\'s ready when the follower was welcomed before it and saw no event', async () => {
    // The follower is welcomed while the leader still connects: told no mark (a restored browser session).
    const { leader, follower } = await leaderAndFollower()
    leader.last().handshake()
    await settle()
    // x reaches the leader, which crashes in that task.
    leader.last().frame(eventFrame('x', T + 1))
    leader.tab.crash()
    leader.leave()
    await settle()
    follower.last().handshake()
    expect(JSON.parse(follower.last().sent.at(-1) ?? '{}')).toMatchObject({ send_all: true })
    follower.last().frame(frameOf(eventFrame('old', T - 5), eventFrame('x', T + 1))).frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['x'])
  })

  it('with persist, resumes a takeover from the record when it is older than the tab\'s own mark (a leader gone mid-replay)', async () => {
    // The record is the leader's connection's, which waits for done_prior; the follower's mark
    // began at the leader's ready, after the record's gap.
    const items = new Map<string, string>()
    const store = {
      getItem: (key: string) => items.get(key) ?? recordText({ mark: { ts: T - 100, eid: 'old' }, ledger: {} }),
      setItem: (key: string, value: string) => void items.set(key, value),
    }
    const leader = tabsOpen(store)
    await until(() => leader.first.sockets.length > 0)
    const follower = leader.open()
    await settle()
    leader.first.last().handshake()
    await settle()
    // g, of the record's gap, is held for order; the leader's tab goes before done_prior.
    leader.first.last().frame(eventFrame('g', T - 50))
    await settle()
    leader.first.tab.crash()
    leader.first.leave()
    await until(() => follower.sockets.length > 0)
    await settle()
    follower.last().handshake()
    follower.last().frame(frameOf(eventFrame('g', T - 50), eventFrame('h', T + 1))).frame(control('done_prior', 16))
    await settle()
    expect(follower.eids()).toEqual(['g', 'h'])
  })

  it('fills the gap of a follower back from a reload from the leader\'s newest events, once, resumed, without an identify', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    const kept = memorySession()
    const follower = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    leader.last().frame(eventFrame('a', T + 1))
    await settle()
    expect(follower.eids()).toEqual(['a'])
    // The follower reloads: b is published meanwhile, and c once it is back.
    follower.leave()
    await settle()
    leader.last().frame(eventFrame('b', T + 2))
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    leader.last().frame(eventFrame('c', T + 3))
    await settle()
    expect(back.eids()).toEqual(['b', 'c'])
    expect(back.events[0]?.resumed).toBe(true)
    expect(back.status()).toMatchObject({ state: 'live', tabs: { role: 'follower', count: 2 } })
    // The leader held every event since the follower's mark: the welcome's status says the gap is filled.
    expect(back.statuses.filter((s) => s.gap !== undefined).map((s) => [s.state, s.gap])).toEqual([['live', 'filled']])
    expect(identifies([leader, follower, back])).toHaveLength(1)
    // A tab with no mark kept (a new one) gets no history: it missed nothing.
    const fresh = t.open()
    await settle()
    expect(fresh.eids()).toEqual([])
  })

  it('knows the gap filled when the follower\'s mark is no earlier than the leader\'s first, though no kept event reaches back to it', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    const kept = memorySession()
    // Its mark is the leader's ready (no event delivered before the reload).
    const follower = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    follower.leave()
    await settle()
    leader.last().frame(eventFrame('b', T + 2))
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['b'])
    expect(back.statuses.filter((s) => s.gap !== undefined).map((s) => s.gap)).toEqual(['filled'])
  })

  it('says the gap of a follower back from a reload is unknown when the leader\'s events do not reach back to its mark', async () => {
    const t = tabs()
    const kept = memorySession()
    const first = t.open()
    await settle()
    first.last().handshake()
    const follower = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    follower.leave()
    await settle()
    // The leader goes too; b is published with no tab open; a new page leads from T + 3.
    first.tab.crash()
    first.leave()
    await settle()
    const next = t.open()
    await settle()
    next.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 18, ts: T + 3 })))
    next.last().frame(eventFrame('c', T + 4))
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['c'])
    expect(back.statuses.filter((s) => s.gap !== undefined).map((s) => [s.state, s.gap])).toEqual([['live', 'unknown']])
  })

  it('says the gap is unknown when the leader\'s events reach back to the mark only across a time it was unsubscribed', async () => {
    const t = tabs()
    const kept = memorySession()
    const a = t.open()
    await settle()
    a.last().handshake()
    const follower = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    a.last().frame(eventFrame('a', T + 1))
    await settle()
    follower.leave()
    a.leave()
    await settle()
    // Nobody subscribed while b is published; the first tab subscribes again and leads afresh.
    const again = recorded(a.client)
    await settle()
    a.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 3 })))
    a.last().frame(eventFrame('c', T + 4))
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['c'])
    expect(back.statuses.filter((s) => s.gap !== undefined).map((s) => s.gap)).toEqual(['unknown'])
    again.leave()
  })

  it('takes the mark it resumed from at the server for covered once that replay reached back to it: a twin tab with the same mark is filled', async () => {
    const t = tabs()
    const kept = memorySession()
    const first = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    first.leave()
    await settle()
    // A restored session: two tabs come back with the same mark; the first leads and resumes.
    const twin = memorySession()
    for (const [key, value] of kept.map) twin.setItem(key, value)
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    back.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 6 })))
    back.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2))).frame(control('done_prior', 16))
    await settle()
    expect(back.statuses.at(-1)).toMatchObject({ state: 'live', gap: 'filled' })
    const other = t.open({}, (env) => ({ ...env, session: twin }))
    await settle()
    expect(other.eids()).toEqual(['b'])
    expect(other.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ gap: 'filled' })
  })

  it('does not take a mark it resumed from at the server for filled, when that replay did not reach back to it', async () => {
    const t = tabs()
    const kept = memorySession()
    const first = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    first.leave()
    await settle()
    // Back alone: it resumes after a, and the server's history no longer reaches back to it.
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    back.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 6 })))
    back.last().frame(eventFrame('c', T + 5)).frame(control('done_prior', 16))
    await settle()
    expect(back.statuses.at(-1)).toMatchObject({ state: 'live', gap: 'unknown' })
    // A tab whose kept mark is that same a (a duplicated tab) is told the same by its welcome
    // (the first status it shows; the leader's own, which follow, say its reconnect's).
    const twin = memorySession()
    for (const [key, value] of kept.map) twin.setItem(key, value)
    const other = t.open({}, (env) => ({ ...env, session: twin }))
    await settle()
    expect(other.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ state: 'live', gap: 'unknown' })
    // A tab with no mark kept is not told the leader's reconnect's gap: it missed nothing of it.
    const fresh = t.open()
    await settle()
    expect(fresh.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ state: 'live' })
    expect(fresh.statuses.filter((s) => s.gap !== undefined)).toEqual([])
  })

  it('judges a reload\'s fill by what the leader still keeps once it let the oldest go, past a time it was unsubscribed', async () => {
    // sendAll with a capacity of 2: the leader keeps 2 events, trimming once it holds 5.
    const options = { sendAll: true, dedupeCapacity: 2 }
    const t = tabs()
    const lead = t.open(options)
    await settle()
    lead.last().handshake()
    lead.last().frame(control('done_prior', 18)).frame(eventFrame('a', T + 1)).frame(eventFrame('b', T + 2))
    await settle()
    lead.leave()
    await settle()
    // Subscribed again (a hole before it): c, d reach a follower too, which then reloads.
    const again = recorded(lead.client)
    await settle()
    lead.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 2.5 }))).frame(control('done_prior', 16))
    const kept = memorySession()
    const follower = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    lead.last().frame(eventFrame('c', T + 3)).frame(eventFrame('d', T + 4))
    await settle()
    follower.leave()
    await settle()
    lead.last().frame(eventFrame('e', T + 5))
    await settle()
    const back = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['e'])
    // d, which the follower's mark names, is among the two kept: filled.
    expect(back.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ gap: 'filled' })
    again.leave()
  })

  it('does not count events kept from before a time it was unsubscribed, once trimming leaves some of them', async () => {
    const options = { sendAll: true, dedupeCapacity: 2 }
    const t = tabs()
    const lead = t.open(options)
    await settle()
    lead.last().handshake()
    const kept = memorySession()
    const follower = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    lead.last().frame(control('done_prior', 18))
    for (const [i, eid] of ['a', 'b', 'c', 'd'].entries()) lead.last().frame(eventFrame(eid, T + 1 + i))
    await settle()
    expect(follower.eids()).toEqual(['a', 'b', 'c', 'd'])
    // Both go; what is published then reaches no tab. The leader comes back first: e trims its
    // five kept events to d and e, d from before the hole.
    follower.leave()
    lead.leave()
    await settle()
    const again = recorded(lead.client)
    await settle()
    lead.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 4.5 }))).frame(control('done_prior', 16))
    lead.last().frame(eventFrame('e', T + 6))
    await settle()
    const back = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ gap: 'unknown' })
    again.leave()
  })

  it('reads the kept mark once per page: a later subscription in the same page starts afresh, as unshared', async () => {
    const t = tabs()
    const tab = t.open({}, (env) => ({ ...env, session: memorySession() }))
    await settle()
    tab.last().handshake()
    tab.last().frame(eventFrame('a', T + 1))
    await settle()
    tab.leave()
    await settle()
    const again = recorded(tab.client)
    await settle()
    tab.last().handshake()
    expect(JSON.parse(tab.last().sent.at(-1) ?? '{}')).toMatchObject({ send_all: false })
    again.leave()
  })

  it('says the fill is unknown when the leader itself missed events since the mark (its own reconnect\'s gap was unknown)', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 18, ts: T })))
    const kept = memorySession()
    const follower = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    leader.last().frame(eventFrame('a', T + 1))
    await settle()
    follower.leave()
    await settle()
    // The leader drops; b (T + 2) is published; its resume at T + 3 no longer finds b in the history.
    leader.last().closeFromServer(1006)
    t.clock.advance(1000)
    await settle()
    leader.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 3 })))
    leader.last().frame(eventFrame('c', T + 5)).frame(control('done_prior', 16))
    await settle()
    expect(leader.status()).toMatchObject({ state: 'live', gap: 'unknown' })
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['c'])
    expect(back.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ gap: 'unknown' })
  })

  it('counts no event without m.ts, nor a ready\'s whole second, as reaching back to a reload\'s mark', async () => {
    const scenario = async (readyTs: number, markTs: number, more: (frame: (text: string) => void) => void) => {
      const t = tabs()
      const kept = memorySession()
      const first = t.open()
      await settle()
      first.last().handshake()
      const follower = t.open({}, (env) => ({ ...env, session: kept }))
      await settle()
      first.last().frame(eventFrame('a', markTs))
      await settle()
      follower.leave()
      first.tab.crash()
      first.leave()
      await settle()
      // b is published with no tab open; a new page leads from `readyTs`.
      const next = t.open()
      await settle()
      next.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 18, ts: readyTs })))
      more((text) => void next.last().frame(text))
      next.last().frame(eventFrame('c', T + 4))
      await settle()
      const back = t.open({}, (env) => ({ ...env, session: kept }))
      await settle()
      return back.statuses.find((s) => s.tabs?.role === 'follower')?.gap
    }
    const noTs = JSON.stringify({ m: { e: 0, eid: 'x', t: -1 }, ctx: { user: '1', votes: 1 } })
    expect(await scenario(T + 3, T + 1, (frame) => frame(noTs))).toBe('unknown')
    // The mark at T + 1.2, b at T + 1.5, the new leader's ready floored to T + 1.
    expect(await scenario(T + 1, T + 1.2, () => undefined)).toBe('unknown')
    // A mark a second past the ready: everything after it reached the leader.
    expect(await scenario(T + 1, T + 2, () => undefined)).toBe('filled')
  })

  it('says unknown when an event stamped after the mark was let go, though a late one stamped before it is kept', async () => {
    const options = { sendAll: true, dedupeCapacity: 2 }
    const t = tabs()
    const lead = t.open(options)
    await settle()
    lead.last().handshake()
    lead.last().frame(control('done_prior', 18))
    const kept = memorySession()
    const follower = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    lead.last().frame(eventFrame('a', T + 1)).frame(eventFrame('b', T + 2))
    await settle()
    follower.leave()
    await settle()
    // While it reloads: c, d, e, and a late one stamped T + 1.5 (its producer's clock behind).
    lead.last().frame(eventFrame('c', T + 3)).frame(eventFrame('d', T + 4)).frame(eventFrame('e', T + 5)).frame(eventFrame('late', T + 1.5))
    await settle()
    const back = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['d', 'e'])
    expect(back.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ gap: 'unknown' })
  })

  it('does not take a sendAll welcome\'s history for a run of its own: once it leads, a mark before the old leader\'s hole is unknown', async () => {
    const options = { sendAll: true }
    const t = tabs()
    const kept = memorySession()
    const a = t.open(options)
    await settle()
    a.last().handshake()
    a.last().frame(control('done_prior', 18))
    const g = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    a.last().frame(eventFrame('a', T + 1))
    await settle()
    g.leave()
    a.leave()
    await settle()
    // b (T + 2) is published with no tab subscribed; the first tab leads afresh from T + 3.
    const again = recorded(a.client)
    await settle()
    a.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 3 })))
    a.last().frame(control('done_prior', 16)).frame(eventFrame('c', T + 4))
    await settle()
    // A new tab gets a and c as history, and takes over when the first tab goes.
    const f = t.open(options)
    await settle()
    expect(f.eids()).toEqual(['a', 'c'])
    again.leave()
    await settle()
    f.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 14, ts: T + 5 })))
    f.last().frame(eventFrame('c', T + 4)).frame(control('done_prior', 14))
    await settle()
    const back = t.open(options, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['c'])
    expect(back.statuses.find((s) => s.tabs?.role === 'follower')?.gap).toBe('unknown')
  })

  it('does not welcome a new tab with the gap of the leader\'s last reconnect: it missed nothing of it', async () => {
    const t = tabs()
    const lead = t.open()
    await settle()
    lead.last().handshake()
    lead.last().frame(eventFrame('a', T + 1))
    lead.last().closeFromServer(1006)
    t.clock.advance(1000)
    await settle()
    lead.last().handshake(16)
    lead.last().frame(eventFrame('c', T + 5)).frame(control('done_prior', 16))
    await settle()
    expect(lead.status()).toMatchObject({ state: 'live', gap: 'unknown' })
    const fresh = t.open()
    await settle()
    expect(fresh.statuses.find((s) => s.tabs?.role === 'follower')).toMatchObject({ state: 'live' })
    expect(fresh.statuses.filter((s) => s.gap !== undefined)).toEqual([])
  })

  it('does not show a reloaded tab the leader\'s older gap again when the count changes', async () => {
    const t = tabs()
    const kept = memorySession()
    const lead = t.open()
    await settle()
    lead.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 18, ts: T })))
    const g = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    lead.last().frame(eventFrame('a', T + 1))
    lead.last().closeFromServer(1006)
    t.clock.advance(1000)
    await settle()
    // The leader's resume falls short (its status says unknown); later events reach every tab.
    lead.last().open().frame(identityFrame).frame(joinFrames(controlPayload('ready', { requestsRemaining: 16, ts: T + 3 })))
    lead.last().frame(eventFrame('c', T + 5)).frame(control('done_prior', 16)).frame(eventFrame('d', T + 6))
    await settle()
    expect(lead.status()).toMatchObject({ state: 'live', gap: 'unknown' })
    g.leave()
    await settle()
    lead.last().frame(eventFrame('e', T + 7))
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    expect(back.eids()).toEqual(['e'])
    t.open()
    await settle()
    t.clock.advance(TabsRecountMs)
    await settle()
    // Its welcome said filled; each count after it (two here) says no gap, not the leader's old unknown.
    const gaps = back.statuses.filter((s) => s.tabs?.role === 'follower').map((s) => s.gap)
    expect(gaps[0]).toBe('filled')
    expect(gaps.length).toBeGreaterThan(1)
    expect(gaps.slice(1).every((gap) => gap === undefined)).toBe(true)
  })

  it('keeps the mark a reload kept when the page\'s first subscription ends before its name is digested', async () => {
    const t = tabs()
    const kept = memorySession()
    const first = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    first.leave()
    await settle()
    // The reloaded page digests as crypto.subtle does (later); a view subscribes and leaves at once first.
    const slow = (text: string) => new Promise<string>((resolve) => setTimeout(() => void digest(text).then(resolve), 20))
    const back = t.open({}, (env) => ({ ...env, digest: slow, session: kept }))
    await new Promise((resolve) => setImmediate(resolve))
    back.leave()
    const seen = recorded(back.client)
    await until(() => back.sockets.length === 1)
    back.last().handshake()
    expect(JSON.parse(back.last().sent.at(-1) ?? '{}')).toMatchObject({ send_all: true })
    seen.leave()
  })

  it('fills the gap of a lone tab back from a reload from the server: it resumes after the mark it kept', async () => {
    const t = tabs()
    const kept = memorySession()
    const first = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1))
    await settle()
    first.leave()
    await settle()
    const back = t.open({}, (env) => ({ ...env, session: kept }))
    await settle()
    back.last().handshake()
    expect(JSON.parse(back.last().sent.at(-1) ?? '{}')).toMatchObject({ send_all: true })
    back.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2))).frame(control('done_prior', 16))
    await settle()
    expect(back.eids()).toEqual(['b'])
    expect(back.events[0]?.resumed).toBe(true)
    // Without resume, no mark is kept (and its name differs: `resume` is part of the identity).
    const plain = memorySession()
    const off = t.open({ resume: false }, (env) => ({ ...env, session: plain }))
    await settle()
    off.last().handshake()
    off.last().frame(eventFrame('c', T + 3))
    await settle()
    expect(off.eids()).toEqual(['c'])
    expect(plain.map.size).toBe(0)
    off.leave()
  })

  it('costs nothing when a follower leaves or comes back, and counts the tabs', async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    let follower = t.open()
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 2 })
    for (let reload = 0; reload < 10; reload++) {
      follower.leave()
      follower = t.open()
      await settle()
    }
    expect(follower.status()).toMatchObject({ state: 'live', tabs: { role: 'follower', count: 2 } })
    expect(follower.sockets).toHaveLength(0)
    expect(leader.sockets).toHaveLength(1)
    expect(identifies([leader])).toHaveLength(1)
    // A follower that crashed says no goodbye: the leader's next count notices.
    follower.tab.crash()
    t.clock.advance(TabsRecountMs)
    await settle()
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 1 })
  })

  it('keeps a lone tab that subscribes again and again within the ratelimit: each session knows what the last spent', async () => {
    const t = tabs()
    const tab = t.open()
    let session = { leave: tab.leave, statuses: tab.statuses }
    // Ten sessions in one window, each an identify the server answers (2 requests each).
    for (let i = 1; i <= Protocol.rateLimit / Protocol.identifyCost; i++) {
      await settle()
      expect(tab.sockets).toHaveLength(i)
      tab.last().handshake(Protocol.rateLimit - Protocol.identifyCost * i)
      await settle()
      expect(session.statuses.at(-1)).toMatchObject({ state: 'live', tabs: { role: 'leader', count: 1 } })
      session.leave()
      session = recorded(tab.client)
    }
    await settle()
    // The eleventh would be refused (4012): it waits for the window instead, and says why.
    expect(tab.sockets).toHaveLength(Protocol.rateLimit / Protocol.identifyCost)
    expect(session.statuses.at(-1)?.detail).toMatch(/0 requests left in the ratelimit window/)
    t.clock.advance(Protocol.rateWindowMs)
    await settle()
    expect(tab.sockets).toHaveLength(Protocol.rateLimit / Protocol.identifyCost + 1)
    session.leave()
  })

  it("counts only its own target's tabs when it recounts the locks' queue", async () => {
    const t = tabs()
    const leader = t.open()
    await settle()
    leader.last().handshake()
    const follower = t.open()
    // Two tabs of another bot wait on a lock of their own in the same browser.
    const other = [t.open({ id: '811073947382579201' }), t.open({ id: '811073947382579201' })]
    await settle()
    expect(other.map((tab) => tab.status()?.tabs?.role).sort()).toEqual(['follower', 'leader'])
    follower.tab.crash()
    t.clock.advance(TabsRecountMs)
    await settle()
    // Itself and no one else: the other bot's waiting tab is not its.
    expect(leader.status()?.tabs).toEqual({ role: 'leader', count: 1 })
    for (const tab of other) tab.leave()
  })

  it('does not share between tabs with another token, nor put the token in any message or name', async () => {
    const t = tabs(memoryBrowser(), new Clock(), true)
    const a = t.open()
    await until(() => a.status()?.tabs !== undefined)
    const b = t.open({ token: 'another-token' })
    const c = t.open()
    // c follows a once a has welcomed it (crypto.subtle digests at the thread pool's pace: a
    // status with `tabs` alone may still be c waiting to be welcomed, and miss what a sends).
    await until(() => b.status()?.tabs !== undefined && c.status()?.tabs?.role === 'follower' && a.status()?.tabs?.count === 2)
    expect(a.sockets).toHaveLength(1)
    expect(b.sockets).toHaveLength(1)
    expect(c.sockets).toHaveLength(0)
    a.last().handshake()
    // A server that echoes the token: the leader's streams carry it redacted, and so does the channel.
    a.last().frame(control('invalid_payload', 16, `bad ${token}`)).frame(`{"x":"${token}"}`).frame(eventFrame('e', T + 1))
    await until(() => c.eids().length > 0)
    await settle()
    expect(c.eids()).toEqual(['e'])
    expect(t.browser.posted.length).toBeGreaterThan(3)
    expect(JSON.stringify(t.browser.posted)).not.toContain(token)
    expect(t.browser.channels.join()).not.toContain(token)
    expect(new Set(t.browser.channels).size).toBe(2)
  })

  it('ends only its own streams on close(), and the leader closing hands over', async () => {
    const { t, leader, follower } = await leaderAndFollower()
    leader.last().handshake()
    await settle()
    follower.client.close()
    expect(follower.status()).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    expect(follower.status()?.tabs).toBeUndefined()
    leader.last().frame(eventFrame('x', T + 1))
    await settle()
    expect(follower.eids()).toEqual([])
    expect(leader.eids()).toEqual(['x'])
    follower.client.reconnect()
    await settle()
    expect(follower.status()).toMatchObject({ state: 'live', tabs: { role: 'follower' } })
    leader.client.close()
    expect(leader.last().closedByClient?.code).toBe(1000)
    await settle()
    expect(follower.sockets).toHaveLength(1)
    expect(follower.status()?.tabs).toEqual({ role: 'leader', count: 1 })
  })

  it('gives a tab that joins later the history, with sendAll', async () => {
    const t = tabs()
    const leader = t.open({ sendAll: true })
    await settle()
    leader.last().handshake()
    leader.last().frame(frameOf(eventFrame('h1', T - 2), eventFrame('h2', T - 1))).frame(control('done_prior', 18))
    leader.last().frame(eventFrame('l1', T + 1))
    const late = t.open({ sendAll: true })
    await settle()
    expect(late.eids()).toEqual(['h1', 'h2', 'l1'])
    expect(late.events.slice(0, 2).every((e) => e.prior === true)).toBe(true)
  })

  it('keeps, with sendAll, a history bounded by the dedupe capacity: the newest events, once over twice it', async () => {
    const t = tabs()
    const capacity = 4
    const leader = t.open({ sendAll: true, dedupeCapacity: capacity })
    await settle()
    leader.last().handshake()
    leader.last().frame(control('done_prior', 18))
    // Twice the capacity is kept whole; one more trims to the newest `capacity`.
    const first = Array.from({ length: 2 * capacity }, (_, i) => `e${i}`)
    for (const [i, eid] of first.entries()) leader.last().frame(eventFrame(eid, T + i))
    const whole = t.open({ sendAll: true, dedupeCapacity: capacity })
    await settle()
    expect(whole.eids()).toEqual(first)
    leader.last().frame(eventFrame('e8', T + 8))
    await settle()
    const late = t.open({ sendAll: true, dedupeCapacity: capacity })
    await settle()
    expect(late.eids()).toEqual(['e5', 'e6', 'e7', 'e8'])
  })

  it('is not shared where there are no Web Locks (Node), and says why', async () => {
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: new Clock(), shareAcrossTabs: true })
    const statuses: ConnectionStatus[] = []
    const subscription = client.status$.subscribe((s) => statuses.push(s))
    await settle()
    expect(fakes.sockets).toHaveLength(1)
    expect(statuses.at(-1)).toMatchObject({ state: 'connecting', detail: expect.stringMatching(/Not shared across tabs: .*Web Locks/) })
    expect(statuses.at(-1)?.tabs).toBeUndefined()
    subscription.unsubscribe()
  })

  it('rejects a shareAcrossTabs that is neither a boolean nor an environment', () => {
    expect(() => connect({ url: 'ws://127.0.0.1:9/ws', id, token, shareAcrossTabs: {} as never })).toThrow(/shareAcrossTabs must be/)
    expect(() => connect({ url: 'ws://127.0.0.1:9/ws', id, token, shareAcrossTabs: 'yes' as never })).toThrow(/shareAcrossTabs must be/)
  })

  it('ignores messages on its channel that are not its own kind', async () => {
    const t = tabs()
    const leader = t.open()
    const follower = t.open()
    await settle()
    leader.last().handshake()
    await settle()
    const name = t.browser.channels[0] as string
    const stranger = new (t.browser.tab().environment.BroadcastChannel)(name)
    for (const junk of [null, 7, 'x', { type: 'out' }, { type: 'out', items: 'no' }, { type: 'welcome' }, { type: 'hello' }]) stranger.postMessage(junk)
    await settle()
    leader.last().frame(eventFrame('k', T + 1))
    await settle()
    // Each tab deduplicates on its own: an event that reaches it twice is delivered once.
    stranger.postMessage({ type: 'out', items: [['event', JSON.parse(eventFrame('k', T + 1)).dat]] })
    await settle()
    expect(follower.eids()).toEqual(['k'])
    expect(follower.status()?.state).toBe('live')
  })
})

// The memory browser itself: what the tests above rely on.
describe('memoryBrowser()', () => {
  it('grants an exclusive lock in request order and passes a crashed holder on', async () => {
    const browser = memoryBrowser()
    const order: string[] = []
    const [a, b, c] = [browser.tab(), browser.tab(), browser.tab()]
    let releaseA = () => {}
    void a.environment.locks.request('l', {}, () => {
      order.push('a')
      return new Promise((resolve) => (releaseA = resolve))
    })
    void b.environment.locks.request('l', {}, () => {
      order.push('b')
      return new Promise(() => {})
    })
    const aborted = new AbortController()
    const cRequest = c.environment.locks.request('l', { signal: aborted.signal }, () => {
      order.push('c')
      return Promise.resolve()
    })
    await settle()
    expect(order).toEqual(['a'])
    expect((await a.environment.locks.query()).pending).toHaveLength(2)
    aborted.abort()
    await expect(cRequest).rejects.toThrow(/aborted/)
    releaseA()
    await settle()
    expect(order).toEqual(['a', 'b'])
    b.crash()
    expect((await a.environment.locks.query()).pending).toHaveLength(0)
  })
})
