import { filter, take } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { ClosePolicy, type KnownCloseCode, UnknownClosePolicy } from '../../protocol/index.js'
import { control, eventFrame, identityFrame } from '../../test-support/frames.js'
import { harness, token } from '../../test-support/virtual-client.js'
import type { ConnectionStatus } from './status.js'

type Harness = ReturnType<typeof harness>

// What the client must be seen doing for each action of the close policy. The rows come from
// the table itself, so a row changed there changes what is asserted here.
const expectations = {
  fail: (h: Harness) => {
    expect(h.status().state).toBe('failed')
    h.clock.advance(3_600_000)
    expect(h.sockets).toHaveLength(1)
  },
  cooldown: (h: Harness) => {
    // The only identify was at t=0: no connection before its window has passed.
    expect(h.status()).toMatchObject({ state: 'reconnecting', nextRetryAt: 420_000 })
    h.clock.advance(419_999)
    expect(h.sockets).toHaveLength(1)
    h.clock.advance(1)
    expect(h.sockets).toHaveLength(2)
  },
  backoff: (h: Harness) => {
    // random 0.5 of the first cap, 500 ms.
    expect(h.status()).toMatchObject({ state: 'reconnecting', attempt: 1, delayMs: 250 })
    h.clock.advance(250)
    expect(h.sockets).toHaveLength(2)
  },
} as const

const rows = [
  ...Object.entries(ClosePolicy).map(([code, row]) => [Number(code), row] as const),
  [3999, UnknownClosePolicy] as const,
]

describe('connect() follows ClosePolicy, row by row', () => {
  it.each(rows)('close %i → %o', (code, row) => {
    const h = harness()
    h.last().handshake()
    h.last().closeFromServer(code, 'bye')
    expect(h.status()).toMatchObject({ close: { code, reason: 'bye' } })
    // The status says why in the policy's words (a fatal close may carry the server's detail).
    if (row.action === 'backoff') expect(h.status().detail).toContain(row === UnknownClosePolicy ? row.why : ClosePolicy[code as KnownCloseCode].why)
    if (row.action === 'cooldown') expect(h.status().detail).toMatch(/Ratelimited \(4012\)/)
    expectations[row.action](h)
  })

  it('covers every known close code', () => {
    expect(rows.map(([code]) => code)).toEqual(expect.arrayContaining([1000, 1001, 1006, 1009, 4000, 4004, 4012, 4500]))
  })
})

describe('connect(): a bare 4012', () => {
  it('waits out the window of its first identify even when no ratelimited payload came before the close', () => {
    const h = harness()
    h.clock.advance(1000)
    h.last().handshake() // identify at t=1000: the window runs to 421000
    h.last().closeFromServer(4012, 'Ratelimited')
    expect(h.status()).toMatchObject({ state: 'reconnecting', nextRetryAt: 421_000, close: { code: 4012 } })
    h.clock.advance(419_999)
    expect(h.sockets).toHaveLength(1)
    h.clock.advance(1)
    expect(h.sockets).toHaveLength(2)
  })

  it('waits a whole window when another client spent it (no identify of its own in it)', () => {
    const h = harness()
    h.last().open()
    h.clock.advance(5000)
    h.last().closeFromServer(4012)
    expect(h.status()).toMatchObject({ state: 'reconnecting', nextRetryAt: 425_000 })
  })
})

describe('connect(): subscribers that act from inside next()', () => {
  it.each([
    ['close()', (h: Harness) => h.client.close()],
    ['reconnect()', (h: Harness) => h.client.reconnect()],
  ])('every status subscriber sees the same statuses in the same order when the first calls %s on live', (_how, act) => {
    const h = harness()
    const first: ConnectionStatus[] = []
    const second: ConnectionStatus[] = []
    let acted = false
    h.client.status$.subscribe((status) => {
      first.push(status)
      if (status.state === 'live' && !acted) {
        acted = true
        act(h)
      }
    })
    h.client.status$.subscribe((status) => second.push(status))
    h.last().handshake()
    expect(acted).toBe(true)
    // Both joined on the same status and saw every later one, in the same order; so did the
    // harness's subscriber, which joined first.
    expect(second).toEqual(first)
    expect(h.statuses.slice(h.statuses.length - first.length)).toEqual(first)
    // live was seen by everyone before what the first subscriber caused.
    expect(second.map((s) => s.state)).toContain('live')
    expect(second.map((s) => s.state).indexOf('live')).toBeLessThan(second.length - 1)
  })

  it('unsubscribing every stream from inside an event delivery closes the socket and leaves no timer', () => {
    const h = harness({ livenessTimeoutMs: 30_000 })
    h.leave()
    const sub = h.client.event$.pipe(take(1)).subscribe()
    h.last().handshake()
    h.last().frame(`${eventFrame('a')}\x1f${eventFrame('b')}`)
    expect(sub.closed).toBe(true)
    expect(h.sockets[0]?.closedByClient?.code).toBe(1000)
    expect(h.clock.actions.filter((action) => !action.closed)).toHaveLength(0)
  })
})

describe('connect(): a replay without end is bounded', () => {
  it('delivers what is held, ordered, once maxReplayHeld events wait for done_prior; says so; goes live', () => {
    const h = harness({ sendAll: true, maxReplayHeld: 3 })
    h.last().handshake()
    h.last().frame([eventFrame('c', 3), eventFrame('a', 1), eventFrame('b', 2)].join('\x1f'))
    expect(h.eids()).toEqual(['a', 'b', 'c'])
    expect(h.events.every((e) => e.prior === true)).toBe(true)
    expect(h.status()).toMatchObject({ state: 'live', detail: expect.stringMatching(/maxReplayHeld/) })
    expect(h.diagnostics).toEqual([expect.objectContaining({ kind: 'replay-cut', raw: '' })])
    // Replayed events that still come arrive at once, still marked prior, until done_prior.
    h.last().frame(eventFrame('d', 0))
    expect(h.events.at(-1)).toMatchObject({ m: { eid: 'd' }, prior: true })
    h.last().frame(control('done_prior', 18))
    h.last().frame(eventFrame('e', 9))
    expect(h.events.at(-1)?.prior).toBeUndefined()
    expect(h.state()).toBe('live')
  })

  it('delivers what is held when no done_prior comes within replayTimeoutMs', () => {
    const h = harness({ sendAll: true, replayTimeoutMs: 5000 })
    h.last().handshake()
    h.last().frame([eventFrame('b', 2), eventFrame('a', 1)].join('\x1f'))
    h.clock.advance(4999)
    expect(h.events).toEqual([])
    h.clock.advance(1)
    expect(h.eids()).toEqual(['a', 'b'])
    expect(h.status()).toMatchObject({ state: 'live', detail: expect.stringMatching(/No done_prior within 5000 ms/) })
    expect(h.diagnostics.map((d) => d.kind)).toEqual(['replay-cut'])
  })

  it('cancels the replay timeout when done_prior comes', () => {
    const h = harness({ sendAll: true, replayTimeoutMs: 5000 })
    h.last().handshake()
    h.last().frame(eventFrame('a', 1))
    h.last().frame(control('done_prior', 18))
    h.clock.advance(60_000)
    expect(h.diagnostics).toEqual([])
    expect(h.status()).toMatchObject({ state: 'live' })
    expect(h.status().detail).toBeUndefined()
  })

  it('rejects a maxReplayHeld that is not a positive integer', () => {
    expect(() => harness({ maxReplayHeld: 0 })).toThrow(/maxReplayHeld must be a positive integer/)
  })
})

describe('connect(): the identify message', () => {
  it('is built from IdentifyPayload: every key, the token only there', () => {
    const h = harness({ bot: false, sendAll: true, sendNone: true })
    h.last().open().frame(identityFrame)
    expect(h.last().sent.map((text) => JSON.parse(text) as unknown)).toEqual([
      { id: '811073947382579200', token, bot: false, send_all: true, send_none: true },
    ])
    expect(JSON.stringify(h.statuses)).not.toContain(token)
  })

  it('is not sent twice for a repeated identity payload', () => {
    const h = harness()
    h.last().open().frame(identityFrame).frame(identityFrame)
    expect(h.last().sent).toHaveLength(1)
    h.client.control$.pipe(filter((c) => c.code === 'ready')).subscribe()
  })
})

describe('connect(): what the machine decides that no other test pins', () => {
  it('orders a held replay by m.ts, keeping arrival order among equal ts and putting events without ts first', () => {
    const h = harness({ sendAll: true })
    h.last().handshake()
    const noTs = JSON.stringify({ m: { e: 0, eid: 'n' }, ctx: { user: '1', votes: 1 } })
    h.last().frame([eventFrame('b2', 2), eventFrame('a2', 2), noTs, eventFrame('c1', 1)].join('\x1f'))
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['n', 'c1', 'b2', 'a2'])
  })

  it('counts reconnect() of a working connection as a manual reconnect, and opens one new socket', () => {
    const h = harness()
    h.last().handshake()
    h.client.reconnect()
    expect(h.sockets).toHaveLength(2)
    expect(h.sockets[0]?.closedByClient?.code).toBe(1000)
    expect(h.metrics().reconnects).toEqual({ manual: 1 })
    expect(h.states().slice(-2)).toEqual(['reconnecting', 'connecting'])
    expect(h.statuses.at(-2)).toMatchObject({ attempt: 0, delayMs: 0, detail: 'reconnect() was called.' })
  })

  it('passes on the server detail of a ratelimited payload with the cooldown that follows', () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(control('ratelimited', -1, 'Past max requests'))
    h.last().closeFromServer(4012)
    expect(h.status().detail).toMatch(/^ratelimited: Past max requests\. Then: Ratelimited \(4012\)/)
  })

  it('ignores frames of a socket it has already left', () => {
    const h = harness()
    h.last().handshake()
    const old = h.last()
    h.client.reconnect()
    old.frame(eventFrame('stale'))
    expect(h.eids()).toEqual([])
    expect(h.metrics().frames).toBe(2)
  })
})
