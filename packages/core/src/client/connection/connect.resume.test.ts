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
})
