import { describe, expect, it } from 'vitest'
import { control, eventFrame } from '../../test-support/frames.js'
import { FixedUnixSeconds } from '../../testing/index.js'
import { harness } from '../../test-support/virtual-client.js'

// resume in virtual time: what a reconnect's replay passes on, and what it says. The fake
// server's `ready` carries ts T (FixedUnixSeconds): the server's clock at the first connection.
const T = FixedUnixSeconds
const frameOf = (...parts: string[]) => parts.map((part) => `${part}\x1f`).join('\x1f')
const identify = (sent: readonly string[]) => JSON.parse(sent.at(-1) ?? '{}') as { send_all?: boolean }

describe('connect(): resume', () => {
  it('fills a gap exactly once, in m.ts order, marked resumed, with nothing from before the first connection', () => {
    const h = harness()
    h.last().handshake()
    expect(identify(h.last().sent).send_all).toBe(false)
    h.last().frame(eventFrame('a', T + 1)).frame(eventFrame('b', T + 2))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    // The resumed connection asks for the history and says what the replay is for.
    expect(identify(h.last().sent).send_all).toBe(true)
    expect(h.status()).toMatchObject({ state: 'replaying', detail: expect.stringMatching(/filling the gap/) })
    // The history in random order: from before the first connection, delivered before the gap, and the gap.
    h.last().frame(frameOf(eventFrame('d', T + 4), eventFrame('old', T - 5), eventFrame('b', T + 2), eventFrame('c', T + 3), eventFrame('a', T + 1)))
    expect(h.eids()).toEqual(['a', 'b'])
    h.last().frame(control('done_prior', 18))
    expect(h.state()).toBe('live')
    h.last().frame(eventFrame('e', T + 5))
    expect(h.eids()).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(h.events.map((e) => e.resumed)).toEqual([undefined, undefined, true, true, undefined])
    expect(h.events.some((e) => e.prior === true)).toBe(false)
    // Nothing reached dedupe twice: the replay was filtered before it ('b', at the mark's m.ts,
    // is the mark's own eid).
    h.clock.advance(1000)
    expect(h.metrics()).toMatchObject({ events: 5, resumed: 2, duplicates: 0 })
    expect(h.states().slice(-4)).toEqual(['connecting', 'identifying', 'replaying', 'live'])
  })

  it('fills each of several gaps from the newest event delivered, ties judged by the eids delivered at the mark, not by eid order', () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(eventFrame('m', T + 1))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    // Same ts as the newest delivered: unseen whatever the eid's order ('l' sorts before 'm'),
    // but for 'm' itself, delivered already. No ts at all: never newer.
    const noTs = JSON.stringify({ m: { e: 0, eid: 'z-no-ts' }, ctx: { user: '1', votes: 1 } })
    h.last().frame(frameOf(eventFrame('n', T + 1), eventFrame('l', T + 1), eventFrame('m', T + 1), noTs))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['m', 'n', 'l'])
    h.last().closeFromServer(1001)
    h.clock.advance(500)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('p', T + 3), eventFrame('n', T + 1), eventFrame('o', T + 2), eventFrame('m', T + 1)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['m', 'n', 'l', 'o', 'p'])
    h.clock.advance(1000)
    // The mark remembers every eid delivered at its m.ts: none of the ties reached the dedupe.
    expect(h.metrics()).toMatchObject({ resumed: 4, duplicates: 0 })
  })

  it('says the gap was filled only when the replay reached back to the mark', () => {
    const h = harness()
    h.last().handshake()
    expect(h.status().gap).toBeUndefined()
    h.last().frame(eventFrame('a', T + 1)).frame(eventFrame('b', T + 2))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    // The history holds 'b', the newest delivered: every event since is in it.
    h.last().frame(frameOf(eventFrame('b', T + 2), eventFrame('c', T + 3))).frame(control('done_prior', 18))
    expect(h.status()).toMatchObject({ state: 'live', gap: 'filled' })
    h.last().closeFromServer(1006)
    h.clock.advance(h.status().delayMs ?? 0)
    h.last().handshake()
    // A history trimmed past the mark ('c'): what came between may be lost, and it says so.
    h.last().frame(frameOf(eventFrame('e', T + 5))).frame(control('done_prior', 18))
    expect(h.status()).toMatchObject({ state: 'live', gap: 'unknown', detail: expect.stringMatching(/may be missing/) })
    expect(h.eids()).toEqual(['a', 'b', 'c', 'e'])
  })

  it('says the gap is unknown when the replay was cut short', () => {
    const h = harness({ maxReplayHeld: 2 })
    h.last().handshake()
    h.last().frame(eventFrame('a', T + 1))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('b', T + 2), eventFrame('c', T + 3)))
    expect(h.status()).toMatchObject({ state: 'live', gap: 'unknown' })
  })

  it('starts the mark at the ready payload’s ts, not the client’s clock', () => {
    // The client's clock reads 0 s here, the server's T: by the client's clock the event from
    // before the first connection (T - 1) would be new.
    const h = harness()
    h.last().handshake()
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('before', T - 1), eventFrame('gap', T + 1))).frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['gap'])
  })

  it('falls back to the client’s clock when ready has no ts', () => {
    const h = harness()
    h.clock.advance(5_000)
    const ready = JSON.stringify({ code: 'ready', detail: 'Waiting for messages with 2 already made', requests_remaining: 18, control: true })
    h.last().open().frame(JSON.stringify({ code: 'identity', detail: 'Send Bot ID…', requests_remaining: -1, control: true })).frame(ready)
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('before', 4.5), eventFrame('gap', 5.1))).frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['gap'])
  })

  it('with sendAll, completes a history replay that a drop cut short, and marks the gap resumed', () => {
    const h = harness({ sendAll: true })
    h.last().handshake()
    h.last().frame(eventFrame('h1', T - 3))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('gap', T + 1), eventFrame('h2', T - 2), eventFrame('h1', T - 3))).frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['h1', 'h2', 'gap'])
    expect(h.events.map((e) => [e.prior, e.resumed])).toEqual([
      [true, undefined],
      [true, undefined],
      [undefined, true],
    ])
  })

  it('does not let the history move the mark: a replayed event stamped ahead of the server hides no gap', () => {
    const h = harness({ sendAll: true })
    h.last().handshake()
    // A producer whose clock ran 10 s ahead of the server's, stored before the client connected.
    h.last().frame(eventFrame('ahead', T + 10)).frame(control('done_prior', 18))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(frameOf(eventFrame('ahead', T + 10), eventFrame('gap', T + 1))).frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['ahead', 'gap'])
    expect(h.events.at(-1)?.resumed).toBe(true)
  })

  it('with resume: false, says on reconnect that the gap is lost, and neither asks for nor passes a replay', () => {
    const h = harness({ resume: false })
    h.last().handshake()
    expect(h.statuses.find((s) => s.state === 'connecting')?.detail).toBeUndefined()
    h.last().frame(eventFrame('a', T + 1))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    expect(h.status()).toMatchObject({
      state: 'connecting',
      detail: 'resume is off: events published while the client was disconnected are not delivered.',
    })
    h.last().handshake()
    expect(identify(h.last().sent).send_all).toBe(false)
    expect(h.state()).toBe('live')
    h.last().frame(eventFrame('c', T + 3))
    expect(h.eids()).toEqual(['a', 'c'])
    h.clock.advance(1000)
    expect(h.metrics().resumed).toBe(0)
  })

  it('starts afresh after the last unsubscribe: the next first connection is not a resume', () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(eventFrame('a', T + 1))
    h.leave()
    const states: string[] = []
    const again = h.client.status$.subscribe((s) => states.push(s.state))
    h.last().handshake()
    expect(identify(h.last().sent).send_all).toBe(false)
    expect(states.slice(-2)).toEqual(['identifying', 'live'])
    again.unsubscribe()
  })

  it('starts afresh after the last unsubscribe mid-replay: the replay held for no one does not rebuild the mark', () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(eventFrame('a', T + 1))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
    h.last().frame(eventFrame('b', T + 2)) // held until done_prior
    h.leave()
    const again = h.client.status$.subscribe(() => undefined)
    h.last().handshake()
    expect(identify(h.last().sent).send_all).toBe(false)
    again.unsubscribe()
    expect(h.eids()).toEqual(['a'])
  })
})

// A replay comes in any order (the original server's is random), so an event of it says nothing
// of those not yet come: until done_prior the gap stays open from where it began.
describe('connect(): a resumed replay that does not finish', () => {
  const positioned = (eid: string, ts: number, pos: string): string =>
    JSON.stringify({ chan: 'bot-1', code: 'event', control: false, detail: null, dat: { m: { e: 0, eid, ts, t: -1, pos }, ctx: { user: '1', votes: 1 } } })
  const exact = JSON.stringify({ code: 'resume', detail: '', ts: 1, requests_remaining: 16, control: true, channels: { 'bot-1': 'exact' } })
  const after = (sent: readonly string[]) => (JSON.parse(sent.at(-1) ?? '{}') as { after?: Record<string, string> }).after
  /** Delivers `first` live, drops, and resumes: the next frames are the replay. */
  const resumedAfter = (h: ReturnType<typeof harness>, first: string): void => {
    h.last().handshake()
    h.last().frame(first)
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake()
  }
  /** Drops, waits out the backoff, and resumes again. */
  const dropAndResume = (h: ReturnType<typeof harness>): void => {
    h.last().closeFromServer(1006)
    h.clock.advance(h.status().delayMs ?? 1000)
    h.last().handshake()
  }

  it('loses nothing and keeps m.ts order when a drop cuts it: the next resume starts from the gap again, and its replay brings the cut one\'s events', () => {
    const h = harness()
    // b (T+2) and c (T+3) are published during the gap.
    resumedAfter(h, eventFrame('a', T + 1))
    // c comes first, and the socket drops: a replay not ended is not delivered (b would then
    // come after c), and it does not move the mark.
    h.last().frame(eventFrame('c', T + 3))
    dropAndResume(h)
    expect(h.eids()).toEqual(['a'])
    h.last().frame(frameOf(eventFrame('c', T + 3), eventFrame('a', T + 1), eventFrame('b', T + 2)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'b', 'c'])
    expect(h.events.map((e) => e.resumed)).toEqual([undefined, true, true])
    expect(h.status()).toMatchObject({ state: 'live', gap: 'filled' })
    // done_prior moved the mark over the whole replay: the next gap starts after c.
    dropAndResume(h)
    h.last().frame(frameOf(eventFrame('b', T + 2), eventFrame('d', T + 4), eventFrame('c', T + 3), eventFrame('a', T + 1)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'b', 'c', 'd'])
    h.clock.advance(1000)
    expect(h.metrics()).toMatchObject({ resumed: 3, duplicates: 0 })
  })

  it('loses nothing when a drop cuts a replay delivered as it comes (orderReplay: false)', () => {
    const h = harness({ orderReplay: false })
    resumedAfter(h, eventFrame('a', T + 1))
    h.last().frame(eventFrame('c', T + 3))
    expect(h.eids()).toEqual(['a', 'c'])
    dropAndResume(h)
    h.last().frame(frameOf(eventFrame('c', T + 3), eventFrame('a', T + 1), eventFrame('b', T + 2)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'c', 'b'])
    h.clock.advance(1000)
    // c once, offered again by the resume after the cut replay.
    expect(h.metrics()).toMatchObject({ resumed: 2, duplicates: 1 })
  })

  it('loses nothing when a drop comes after maxReplayHeld cut it and before done_prior', () => {
    const h = harness({ maxReplayHeld: 2 })
    resumedAfter(h, eventFrame('a', T + 1))
    // Two held: cut, delivered in order, live; b has not come when the socket drops.
    h.last().frame(frameOf(eventFrame('d', T + 4), eventFrame('c', T + 3)))
    expect(h.eids()).toEqual(['a', 'c', 'd'])
    h.last().frame(eventFrame('e', T + 5))
    dropAndResume(h)
    h.last().frame(frameOf(eventFrame('e', T + 5), eventFrame('b', T + 2)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'c', 'd', 'e', 'b'])
  })

  it('moves the mark over a cut replay once its done_prior comes', () => {
    const h = harness({ maxReplayHeld: 2 })
    resumedAfter(h, eventFrame('a', T + 1))
    h.last().frame(frameOf(eventFrame('c', T + 3), eventFrame('b', T + 2)))
    h.last().frame(eventFrame('d', T + 4))
    h.last().frame(control('done_prior', 18))
    dropAndResume(h)
    h.last().frame(frameOf(eventFrame('b', T + 2), eventFrame('e', T + 5), eventFrame('d', T + 4), eventFrame('c', T + 3)))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'b', 'c', 'd', 'e'])
    h.clock.advance(1000)
    // The replay after the second gap passed on e alone: none reached the dedupe again.
    expect(h.metrics()).toMatchObject({ duplicates: 0 })
  })

  it('resumes after the highest position an exact replay delivered, whatever order m.ts gave them', () => {
    const h = harness()
    resumedAfter(h, positioned('a', T + 1, 'E:1'))
    expect(after(h.last().sent)).toEqual({ 'bot-1': 'E:1' })
    // Stored in this order, stamped the other way by two producers' clocks.
    h.last().frame(exact)
    h.last().frame(frameOf(positioned('b', T + 3, 'E:2'), positioned('c', T + 2, 'E:3')))
    h.last().frame(control('done_prior', 16))
    expect(h.eids()).toEqual(['a', 'c', 'b'])
    dropAndResume(h)
    expect(after(h.last().sent)).toEqual({ 'bot-1': 'E:3' })
  })

  it('keeps the position where the gap began while an exact replay is not whole', () => {
    const h = harness()
    resumedAfter(h, positioned('a', T + 1, 'E:1'))
    h.last().frame(exact)
    h.last().frame(positioned('b', T + 2, 'E:2'))
    dropAndResume(h)
    expect(after(h.last().sent)).toEqual({ 'bot-1': 'E:1' })
  })
})
