import fc from 'fast-check'
import { config, filter, firstValueFrom, take, takeWhile } from 'rxjs'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { Clock, control, eventFrame, fakeWebSockets, identityFrame } from '../../test-support/frames.js'
import { connect } from './connect.js'
import type { ConnectOptions } from '../options.js'
import type { ConnectionStatus } from './status.js'
import { harness, id, token } from '../../test-support/virtual-client.js'
import { fatesEvent, wrapEvent } from '../../testing/index.js'


describe('connect(): reconnection', () => {
  it('reconnects after an abrupt drop with a jittered delay and reports the close', () => {
    const h = harness()
    h.last().handshake()
    h.clock.advance(1000)
    h.last().closeFromServer(1006)
    expect(h.status()).toMatchObject({
      state: 'reconnecting',
      attempt: 1,
      delayMs: 250,
      nextRetryAt: 1250,
      close: { code: 1006, reason: '', meaning: expect.stringMatching(/dropped/) },
    })
    h.clock.advance(249)
    expect(h.sockets).toHaveLength(1)
    h.clock.advance(1)
    expect(h.sockets).toHaveLength(2)
    h.last().handshake()
    // Resumed: the replay that fills the gap comes first, then live.
    expect(h.status()).toMatchObject({ state: 'replaying', detail: expect.stringMatching(/gap/) })
    h.last().frame(control('done_prior', 18))
    expect(h.status().state).toBe('live')
    expect(h.metrics().reconnects).toEqual({ 1006: 1 })
  })

  it('takes a socket whose observable errors (a WebSocket that refuses its handlers) as a drop, and reconnects', () => {
    // webSocket$ reports its own failures as close signals; an error can only come from a
    // WebSocket that throws where none should (here: a frozen one refusing `onopen`). The
    // client must not be left waiting for a socket that will never speak.
    let made = 0
    class FrozenWebSocket {
      onopen = null
      onmessage = null
      onclose = null
      onerror = null
      constructor() {
        made++
        Object.freeze(this)
      }
      send(): void {}
      close(): void {}
    }
    const h = harness({ WebSocket: FrozenWebSocket })
    expect(made).toBe(1)
    expect(h.status()).toMatchObject({ state: 'reconnecting', attempt: 1, close: { code: 1006, reason: '' } })
    h.clock.advance(h.status().delayMs as number)
    expect(made).toBe(2)
    h.leave()
  })

  it('grows the delay exponentially up to the cap, and resets after 10 s live', () => {
    const h = harness({ random: () => 0.999 })
    const delays: number[] = []
    for (let i = 0; i < 8; i++) {
      h.last().closeFromServer(1006)
      delays.push(h.status().delayMs as number)
      h.clock.advance(h.status().delayMs as number)
    }
    expect(delays).toEqual([499, 999, 1998, 3996, 7992, 15984, 29970, 29970])
    h.last().handshake()
    h.clock.advance(9_999)
    h.last().closeFromServer(1006)
    expect(h.status()).toMatchObject({ attempt: 9, delayMs: 29970 })
    h.clock.advance(29970)
    h.last().handshake()
    h.clock.advance(10_000)
    h.last().closeFromServer(1006)
    expect(h.status()).toMatchObject({ attempt: 1, delayMs: 499 })
  })

  it('gives up after maxAttempts, then reconnect() starts over', () => {
    const h = harness({ backoff: { maxAttempts: 2 } })
    h.last().closeFromServer(4500)
    h.clock.advance(250)
    h.last().closeFromServer(4500)
    h.clock.advance(500)
    h.last().closeFromServer(4500, 'Internal Server Error, try reconnecting?')
    expect(h.status()).toMatchObject({ state: 'failed', detail: expect.stringMatching(/Gave up after 2/), close: { code: 4500 } })
    h.clock.advance(600_000)
    expect(h.sockets).toHaveLength(3)
    h.client.reconnect()
    expect(h.status()).toMatchObject({ state: 'connecting', attempt: 0 })
    expect(h.sockets).toHaveLength(4)
  })

  it('keeps every delay within [0, cap] and stops after exactly maxAttempts (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.constantFrom(1006, 1001, 4000, 4500, 3999),
        (maxAttempts, initialDelayMs, maxDelayMs, r, code) => {
          const h = harness({ backoff: { maxAttempts, initialDelayMs, maxDelayMs }, random: () => r })
          for (let i = 0; i <= maxAttempts; i++) {
            h.last().closeFromServer(code)
            if (i < maxAttempts) {
              const { delayMs, state } = h.status()
              expect(state).toBe('reconnecting')
              expect(delayMs).toBeGreaterThanOrEqual(0)
              expect(delayMs).toBeLessThanOrEqual(Math.min(maxDelayMs, initialDelayMs * 2 ** i))
              h.clock.advance(delayMs as number)
            }
          }
          expect(h.status().state).toBe('failed')
          h.clock.advance(3_600_000)
          expect(h.sockets).toHaveLength(maxAttempts + 1)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('fails on 4004 with the server detail (token redacted) and never tries again', () => {
    const h = harness()
    h.last().open().frame(identityFrame)
    h.last().frame(control('invalid_payload', -1, `Invalid ID or token sent. Got ID of ${id} and api token of ${token}`))
    h.last().closeFromServer(4004, 'Invalid authentication, try again')
    expect(h.status()).toMatchObject({
      state: 'failed',
      detail: `invalid_payload: Invalid ID or token sent. Got ID of ${id} and api token of [redacted]`,
      close: { code: 4004, reason: 'Invalid authentication, try again' },
    })
    h.clock.advance(3_600_000)
    expect(h.sockets).toHaveLength(1)
    expect(JSON.stringify([h.statuses, h.controls])).not.toContain(token)
  })

  it('fails on a bare 4004 (the error payload lost in the race) with a clear meaning', () => {
    const h = harness()
    h.last().open().frame(identityFrame)
    h.last().closeFromServer(4004, 'Invalid authentication, try again')
    expect(h.status().state).toBe('failed')
    expect(h.status().detail).toMatch(/ID or token was rejected/)
  })

  it('after 4012 opens no connection until the window of its first identify has passed', () => {
    const h = harness()
    h.clock.advance(1000)
    h.last().open().frame(identityFrame) // identify at t=1000: the window runs to 421000
    h.last().frame(control('ratelimited', -2, 'Past max requests that can be sent (22)'))
    h.last().closeFromServer(4012, 'Ratelimited')
    expect(h.status()).toMatchObject({
      state: 'reconnecting',
      nextRetryAt: 421_000,
      requestsRemaining: -2,
      close: { code: 4012 },
      detail: expect.stringMatching(/ratelimited: Past max requests .*window/i),
    })
    h.clock.advance(419_999)
    expect(h.sockets).toHaveLength(1)
    h.clock.advance(1)
    expect(h.sockets).toHaveLength(2)
  })

  it('does not identify on a spent budget: it waits, and says why', () => {
    const h = harness()
    h.last().handshake(1)
    expect(h.status().requestsRemaining).toBe(1)
    h.last().closeFromServer(1006)
    expect(h.status()).toMatchObject({ state: 'reconnecting', nextRetryAt: 420_000, detail: expect.stringMatching(/1 requests left/) })
    h.clock.advance(419_999)
    expect(h.sockets).toHaveLength(1)
    h.clock.advance(1)
    expect(h.sockets).toHaveLength(2)
  })

  it('keeps the optional minimum spacing between identifies', () => {
    const h = harness({ minIdentifySpacingMs: 65_000 })
    h.last().handshake()
    h.last().closeFromServer(1006)
    expect(h.status()).toMatchObject({ state: 'reconnecting', delayMs: 65_000, detail: expect.stringMatching(/65000 ms between identifies/) })
  })

  it('times out waiting for identity, and for ready, and retries', () => {
    const h = harness({ identityTimeoutMs: 5000, readyTimeoutMs: 3000 })
    h.last().open()
    h.clock.advance(5000)
    expect(h.status()).toMatchObject({ state: 'reconnecting', detail: 'No identity payload within 5000 ms.' })
    expect(h.sockets[0]?.closedByClient?.code).toBe(1000)
    h.clock.advance(250)
    h.last().open().frame(identityFrame)
    h.clock.advance(3000)
    expect(h.status()).toMatchObject({ state: 'reconnecting', detail: 'No ready payload within 3000 ms of identifying.' })
    expect(h.metrics().reconnects).toEqual({ timeout: 2 })
  })

  it('reconnects when no frame arrives within the liveness timeout (off by default)', () => {
    const quiet = harness()
    quiet.last().handshake()
    quiet.clock.advance(3_600_000)
    expect(quiet.status().state).toBe('live')
    const h = harness({ livenessTimeoutMs: 60_000 })
    h.last().handshake()
    h.clock.advance(59_000)
    h.last().frame(eventFrame('a'))
    h.clock.advance(59_000)
    expect(h.status().state).toBe('live')
    h.clock.advance(1000)
    expect(h.status()).toMatchObject({ state: 'reconnecting', detail: 'No frame for 60000 ms.' })
  })

  it('keeps one liveness timer per quiet period, not one per frame, and times out exactly after the last frame', () => {
    const h = harness({ livenessTimeoutMs: 1000 })
    h.last().handshake()
    const schedule = h.clock.schedule.bind(h.clock)
    let scheduled = 0
    h.clock.schedule = ((...args: Parameters<typeof schedule>) => {
      scheduled++
      return schedule(...args)
    }) as typeof h.clock.schedule
    for (let i = 0; i < 300; i++) {
      h.clock.advance(10)
      h.last().frame(eventFrame(`f${i}`))
    }
    // Over 3 s: a few liveness checks and metrics ticks, not one timer per frame.
    expect(scheduled).toBeLessThan(20)
    expect(h.status().state).toBe('live')
    h.clock.advance(999)
    expect(h.status().state).toBe('live')
    h.clock.advance(1)
    expect(h.status()).toMatchObject({ state: 'reconnecting', detail: 'No frame for 1000 ms.' })
  })

  it('reads url, id and token functions at each attempt', () => {
    let n = 0
    const h = harness({ token: () => `token-${++n}`, url: () => `ws://127.0.0.1:9/ws?attempt=${n}` })
    h.last().open().frame(identityFrame)
    expect(JSON.parse(h.last().sent[0] as string)).toMatchObject({ token: 'token-1' })
    h.last().frame(control('invalid_auth', -1, 'token-1 is not valid'))
    h.last().closeFromServer(4000)
    h.clock.advance(250)
    expect(h.last().url).toBe('ws://127.0.0.1:9/ws?attempt=2')
    h.last().open().frame(identityFrame)
    expect(JSON.parse(h.last().sent[0] as string)).toMatchObject({ token: 'token-2' })
    expect(h.controls.find((c) => c.code === 'invalid_auth')?.detail).toBe('[redacted] is not valid')
  })

  it('reconnects at once when the browser comes back online', () => {
    const target = new EventTarget()
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
    g.addEventListener = target.addEventListener.bind(target)
    g.removeEventListener = target.removeEventListener.bind(target)
    try {
      const h = harness({ backoff: { initialDelayMs: 60_000 } })
      h.last().handshake()
      h.last().closeFromServer(1006)
      expect(h.status()).toMatchObject({ state: 'reconnecting', delayMs: 15_000 })
      target.dispatchEvent(new Event('online'))
      expect(h.status().state).toBe('connecting')
      expect(h.sockets).toHaveLength(2)
      h.leave()
      target.dispatchEvent(new Event('online'))
      expect(h.sockets).toHaveLength(2)
    } finally {
      delete g.addEventListener
      delete g.removeEventListener
    }
  })
})

describe('connect(): the page\'s listeners', () => {
  /** A page whose listeners are counted by type. */
  function countedPage() {
    const target = new EventTarget()
    // Listeners by type, each once, as an EventTarget keeps them (adding one twice adds it once).
    const listeners = new Map<string, Set<EventListener>>()
    const listening = {
      get size(): number {
        return listeners.size
      },
      counts: (): Record<string, number> => Object.fromEntries([...listeners].map(([type, set]) => [type, set.size])),
    }
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
    g.addEventListener = (type: string, listener: EventListener) => {
      listeners.set(type, (listeners.get(type) ?? new Set()).add(listener))
      target.addEventListener(type, listener)
    }
    g.removeEventListener = (type: string, listener: EventListener) => {
      listeners.get(type)?.delete(listener)
      target.removeEventListener(type, listener)
    }
    const restore = (): void => {
      delete g.addEventListener
      delete g.removeEventListener
    }
    return { target, listening, restore }
  }

  it('listens for online and visibilitychange while waiting to reconnect, and leaves none behind after the last subscriber', () => {
    // A client per component of a page that mounts and unmounts them all day must not leak a
    // listener each time.
    const page = countedPage()
    try {
      const h = harness()
      h.last().handshake()
      h.last().closeFromServer(1006)
      expect(page.listening.counts()).toEqual({ online: 1, visibilitychange: 1 })
      h.leave()
      expect(page.listening.counts()).toEqual({ online: 0, visibilitychange: 0 })
    } finally {
      page.restore()
    }
  })

  it('with reconnectOnOnline off, listens for nothing and waits out its backoff when the browser comes back online', () => {
    const page = countedPage()
    try {
      const h = harness({ reconnectOnOnline: false, backoff: { initialDelayMs: 60_000 } })
      expect(page.listening.size).toBe(0)
      h.last().handshake()
      h.last().closeFromServer(1006)
      page.target.dispatchEvent(new Event('online'))
      expect(h.status().state).toBe('reconnecting')
      expect(h.sockets).toHaveLength(1)
      h.leave()
    } finally {
      page.restore()
    }
  })
})

describe('connect(): page visibility', () => {
  it('reconnects at once when the page becomes visible again, not when it is hidden', () => {
    const target = new EventTarget()
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown; document?: unknown }
    const page = { visibilityState: 'hidden' }
    g.addEventListener = target.addEventListener.bind(target)
    g.removeEventListener = target.removeEventListener.bind(target)
    g.document = page
    try {
      const h = harness()
      h.last().handshake()
      h.last().closeFromServer(1006)
      target.dispatchEvent(new Event('visibilitychange'))
      expect(h.status().state).toBe('reconnecting')
      page.visibilityState = 'visible'
      target.dispatchEvent(new Event('visibilitychange'))
      expect(h.status().state).toBe('connecting')
      h.leave()
    } finally {
      delete g.addEventListener
      delete g.removeEventListener
      delete g.document
    }
  })

  it('does not skip a ratelimit wait when the browser comes back online', () => {
    const target = new EventTarget()
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown }
    g.addEventListener = target.addEventListener.bind(target)
    g.removeEventListener = target.removeEventListener.bind(target)
    try {
      const h = harness()
      h.last().handshake(0)
      h.last().closeFromServer(1006)
      expect(h.status().detail).toMatch(/requests left/)
      target.dispatchEvent(new Event('online'))
      expect(h.status().state).toBe('reconnecting')
      expect(h.sockets).toHaveLength(1)
      h.leave()
    } finally {
      delete g.addEventListener
      delete g.removeEventListener
    }
  })
})

describe('connect(): replay and dedupe', () => {
  it('marks a sendAll replay prior, orders it by m.ts, and delivers live events after it', () => {
    const h = harness({ sendAll: true })
    h.last().handshake()
    expect(h.status().state).toBe('replaying')
    expect(JSON.parse(h.last().sent[0] as string)).toEqual({ id, token, bot: true, send_all: true, send_none: false })
    h.last().frame(`${eventFrame('c', 3)}\x1f\x1f${eventFrame('a', 1)}\x1f\x1f${eventFrame('b', 2)}\x1f`)
    expect(h.events).toEqual([])
    h.last().frame(control('done_prior', 18, 'Done sending all prior messages'))
    expect(h.status().state).toBe('live')
    h.last().frame(eventFrame('d', 4))
    expect(h.eids()).toEqual(['a', 'b', 'c', 'd'])
    expect(h.events.map((e) => e.prior)).toEqual([true, true, true, undefined])
  })

  it('delivers a held replay before the done_prior that ends it: control$ says it is over once event$ has it all', () => {
    const h = harness({ sendAll: true })
    const order: string[] = []
    h.client.control$.subscribe((payload) => order.push(payload.code))
    h.client.event$.subscribe((event) => order.push(event.m.eid ?? ''))
    h.last().handshake()
    h.last().frame(`${eventFrame('b', 2)}\x1f\x1f${eventFrame('a', 1)}\x1f`)
    h.last().frame(control('done_prior', 18))
    h.last().frame(eventFrame('c', 3))
    expect(order).toEqual(['identity', 'ready', 'a', 'b', 'done_prior', 'c'])
    // The status says live only then too.
    expect(h.states().slice(-2)).toEqual(['replaying', 'live'])
  })

  it('delivers the replay in arrival order with orderReplay: false', () => {
    const h = harness({ sendAll: true, orderReplay: false })
    h.last().handshake()
    h.last().frame(`${eventFrame('c', 3)}\x1f\x1f${eventFrame('a', 1)}\x1f`)
    expect(h.eids()).toEqual(['c', 'a'])
  })

  it('delivers each eid once across reconnects and replays, and counts the duplicates', () => {
    const h = harness({ sendAll: true })
    h.last().handshake()
    h.last().frame(eventFrame('a', 1)).frame(control('done_prior', 18))
    h.last().frame(eventFrame('b', 2))
    h.last().closeFromServer(1006)
    h.clock.advance(250)
    h.last().handshake(16)
    // A drop mid-replay: what arrived is not delivered yet; the next replay brings it again,
    // whole and in order.
    h.last().frame(`${eventFrame('b', 2)}\x1f\x1f${eventFrame('a', 1)}\x1f\x1f${eventFrame('c', 3)}\x1f`)
    h.last().closeFromServer(1001)
    expect(h.eids()).toEqual(['a', 'b'])
    h.clock.advance(500)
    h.last().handshake(14)
    h.last().frame(`${eventFrame('c', 3)}\x1f\x1f${eventFrame('d', 4)}\x1f\x1f${eventFrame('b', 2)}\x1f\x1f${eventFrame('a', 1)}\x1f`)
    h.last().frame(control('done_prior', 14))
    h.last().frame(eventFrame('d', 4)).frame(eventFrame('e', 5))
    expect(h.eids()).toEqual(['a', 'b', 'c', 'd', 'e'])
    h.clock.advance(1000)
    expect(h.metrics()).toMatchObject({ events: 5, duplicates: 3, reconnects: { 1006: 1, 1001: 1 } })
  })
})

describe('connect(): streams and metrics', () => {
  it('passes control payloads, frames and diagnostics on, and keeps event$ alive through garbage', () => {
    const h = harness()
    const frames: string[] = []
    const sub = h.client.frame$.subscribe((frame) => frames.push(frame))
    h.last().handshake()
    h.last().frame(`${eventFrame('a')}\x1f\x1f{oops\x1f\x1f${eventFrame('b')}\x1f`)
    h.last().frame('{"code":"brand_new","control":true}')
    h.last().frame(JSON.stringify({ m: { e: 0, eid: 'u' }, ctx: { user: 563808552288780322, votes: 1 } }))
    expect(h.eids()).toEqual(['a', 'b', 'u'])
    expect(h.controls.map((c) => c.code)).toEqual(['identity', 'ready', 'brand_new'])
    expect(h.diagnostics.map((d) => d.kind)).toEqual(['not-json', 'unsafe-number'])
    expect(frames).toHaveLength(5)
    h.clock.advance(1000)
    expect(h.metrics()).toMatchObject({ frames: 5, payloads: 7, events: 3, duplicates: 0, diagnostics: 2, connectToReadyMs: 0, lastFrameAt: 0 })
    expect(h.metrics().bytes).toBeGreaterThan(300)
    sub.unsubscribe()
  })

  it('redacts the token from frame$ too', () => {
    const h = harness()
    const frames: string[] = []
    const sub = h.client.frame$.subscribe((frame) => frames.push(frame))
    h.last().open().frame(identityFrame)
    h.last().frame(control('invalid_payload', -1, `api token of ${token}`))
    expect(frames[1]).toContain('api token of [redacted]')
    expect(frames.join('')).not.toContain(token)
    sub.unsubscribe()
  })

  it('treats a WebSocket constructor that throws as a failed connection, not a crash', () => {
    let calls = 0
    const Refusing = class {
      constructor() {
        calls++
        throw new Error('blocked')
      }
    } as unknown as NonNullable<ConnectOptions['WebSocket']>
    const h = harness({ WebSocket: Refusing })
    expect(h.status()).toMatchObject({ state: 'reconnecting', close: { code: 1006 } })
    h.clock.advance(250)
    expect(calls).toBe(2)
  })

  it('measures connect → ready, and carries lastFrameAt and requestsRemaining in statuses', () => {
    const h = harness()
    h.clock.advance(40)
    h.last().open()
    h.clock.advance(30)
    h.last().frame(identityFrame)
    h.clock.advance(30)
    h.last().frame(control('ready', 18))
    expect(h.status()).toMatchObject({ state: 'live', since: 100, lastFrameAt: 100, requestsRemaining: 18 })
    expect(h.metrics().connectToReadyMs).toBe(100)
  })

  it('replays the current status to a late subscriber', () => {
    const h = harness()
    h.last().handshake()
    const late: ConnectionStatus[] = []
    h.client.status$.subscribe((s) => late.push(s)).unsubscribe()
    expect(late.map((s) => s.state)).toEqual(['live'])
  })

  it('closes the socket when the last subscriber leaves and reopens for the next', () => {
    const h = harness()
    h.last().handshake()
    h.leave()
    expect(h.sockets[0]?.closedByClient).toEqual({ code: 1000, reason: undefined })
    const states: string[] = []
    const again = h.client.status$.subscribe((s) => states.push(s.state))
    expect(states).toEqual(['closed', 'connecting'])
    expect(h.sockets).toHaveLength(2)
    again.unsubscribe()
  })

  it('stays closed after close() until reconnect(), even for new subscribers', () => {
    const h = harness()
    h.last().handshake()
    h.client.close()
    h.client.event$.subscribe().unsubscribe()
    h.clock.advance(60_000)
    expect(h.sockets).toHaveLength(1)
    expect(h.status()).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    h.client.reconnect()
    expect(h.sockets).toHaveLength(2)
  })
})


// Timers still armed on the virtual clock (an unsubscribed action stays in the queue, closed).
const armed = (clock: Clock) => clock.actions.filter((action) => !action.closed).length

describe('connect(): subscribers that act from inside an emission', () => {
  it('opens no socket for a subscriber that only reads the current status', async () => {
    const h = harness()
    h.leave()
    const before = h.sockets.length
    expect(await firstValueFrom(h.client.status$)).toMatchObject({ state: 'closed' })
    h.client.status$.pipe(take(1)).subscribe()
    expect(h.sockets).toHaveLength(before)
  })

  it('arms no handshake timer and opens no socket when the last subscriber leaves on connecting', () => {
    const h = harness()
    h.leave()
    const sub = h.client.status$.pipe(takeWhile((s) => !(s.state === 'connecting' && s.attempt === 1))).subscribe()
    h.last().handshake()
    h.last().closeFromServer(1006)
    const sockets = h.sockets.length
    h.clock.advance(250)
    expect(sub.closed).toBe(true)
    expect(h.sockets).toHaveLength(sockets)
    expect(armed(h.clock)).toBe(0)
  })

  it('arms no liveness timer when the last subscriber leaves on identifying', () => {
    const h = harness({ livenessTimeoutMs: 60_000 })
    h.leave()
    const sub = h.client.status$.pipe(takeWhile((s) => s.state !== 'identifying')).subscribe()
    h.last().open()
    expect(sub.closed).toBe(true)
    expect(armed(h.clock)).toBe(0)
  })

  it('arms no retry timer when close() is called on reconnecting', () => {
    const h = harness()
    h.client.status$.pipe(filter((s) => s.state === 'reconnecting'), take(1)).subscribe(() => h.client.close())
    h.last().handshake()
    h.last().closeFromServer(1006)
    expect(h.states().slice(-2)).toEqual(['reconnecting', 'closed'])
    expect(armed(h.clock)).toBe(0)
  })

  it('ends a replay taken with take(n) without an internal error (closed → live was attempted)', async () => {
    const errors: unknown[] = []
    const previous = config.onUnhandledError
    config.onUnhandledError = (error) => errors.push(error)
    try {
      const clock = new Clock()
      const fakes = fakeWebSockets()
      const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, sendAll: true, WebSocket: fakes.WebSocket, scheduler: clock })
      const taken: ReceivedEvent[] = []
      client.event$.pipe(take(2)).subscribe((event) => taken.push(event))
      fakes.last().handshake()
      fakes.last().frame(`${eventFrame('c', 3)}\x1f\x1f${eventFrame('a', 1)}\x1f\x1f${eventFrame('b', 2)}\x1f`)
      fakes.last().frame(control('done_prior', 18))
      expect(taken.map((e) => e.m.eid)).toEqual(['a', 'b'])
      // rxjs reports an error thrown in a subscriber on a later macrotask.
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(errors).toEqual([])
      const states: string[] = []
      client.status$.pipe(take(1)).subscribe((s) => states.push(s.state))
      expect(states).toEqual(['closed'])
      expect(armed(clock)).toBe(0)
    } finally {
      config.onUnhandledError = previous
    }
  })

  it('stays closed when close() is called while a held replay is being delivered', () => {
    const h = harness({ sendAll: true })
    h.client.event$.pipe(take(1)).subscribe(() => h.client.close())
    h.last().handshake()
    h.last().frame(`${eventFrame('b', 2)}\x1f\x1f${eventFrame('a', 1)}\x1f`)
    h.last().frame(control('done_prior', 18))
    expect(h.eids()).toEqual(['a', 'b'])
    expect(h.status()).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    // Nothing left to run but metrics$'s last emission: no retry, no connection timer.
    h.clock.advance(60_000)
    expect(armed(h.clock)).toBe(0)
    expect(h.sockets).toHaveLength(1)
  })

  it('does not apply a control payload to the connection a control$ subscriber opened on it', () => {
    const h = harness()
    h.client.control$.pipe(filter((c) => c.code === 'invalid_auth'), take(1)).subscribe(() => h.client.reconnect())
    h.last().open().frame(identityFrame).frame(control('invalid_auth', -1, 'no rows in result set'))
    expect(h.sockets).toHaveLength(2)
    h.last().open()
    h.last().closeFromServer(4000)
    expect(h.status()).toMatchObject({ state: 'reconnecting', detail: 'The server asks the client to try again.' })
  })

  it('reports a failed reconnect() after failed as failed again, without throwing', () => {
    let reads = 0
    const h = harness({ url: () => (reads++ === 0 ? 'ws://127.0.0.1:9/ws' : 'http://wrong.test/') })
    h.last().open()
    h.last().closeFromServer(4004)
    expect(h.status().state).toBe('failed')
    expect(() => h.client.reconnect()).not.toThrow()
    expect(h.status()).toMatchObject({ state: 'failed', detail: 'Bad connection option: url must use ws: or wss:.' })
  })
})

describe('connect(): a credentials function that throws', () => {
  it('fails with what to do, never with what it threw (which may hold the secret), and reconnect() reads it again', () => {
    let broken = true
    const h = harness({
      token: () => {
        if (broken) throw new Error(`vault said no to ${token}`)
        return token
      },
    })
    expect(h.sockets).toHaveLength(0)
    expect(h.status()).toMatchObject({ state: 'failed', detail: 'Reading the url, id or token option threw; fix the function and call reconnect().' })
    expect(JSON.stringify([h.statuses, h.diagnostics])).not.toContain(token)
    broken = false
    h.client.reconnect()
    expect(h.sockets).toHaveLength(1)
    h.last().handshake()
    expect(h.status().state).toBe('live')
    h.leave()
  })
})

describe('connect(): events without an eid', () => {
  it('delivers each of them: the eid memory is for eids, and an event without one is never a repeat', () => {
    const h = harness()
    h.last().handshake()
    const bare = (n: number): string => {
      const event = fatesEvent(0 as number, { user: '1', votes: n }, { ts: 1 + n })
      delete (event.m as { eid?: string }).eid
      return JSON.stringify(wrapEvent(event, 'bot-1'))
    }
    h.last().frame(bare(1)).frame(bare(2)).frame(bare(3))
    expect(h.events.map((event) => (event.ctx as { votes: number }).votes)).toEqual([1, 2, 3])
    h.leave()
  })
})

describe('connect(): leaves nothing behind', () => {
  it.each([
    ['close()', (h: ReturnType<typeof harness>) => h.client.close()],
    ['the last unsubscribe', (h: ReturnType<typeof harness>) => h.leave()],
  ])('after %s, from every phase, no timer stays armed and the socket is closed', (_how, end) => {
    const phases: ((h: ReturnType<typeof harness>) => void)[] = [
      () => undefined,
      (h) => h.last().open(),
      (h) => h.last().open().frame(identityFrame),
      (h) => h.last().handshake(),
      (h) => {
        h.last().handshake()
        h.last().closeFromServer(1006)
      },
      (h) => {
        h.last().handshake(0)
        h.last().closeFromServer(1006)
      },
    ]
    for (const reach of phases) {
      const h = harness({ sendAll: true, livenessTimeoutMs: 30_000 })
      reach(h)
      end(h)
      expect(armed(h.clock)).toBe(0)
      expect(h.sockets.every((s) => s.closedByClient !== undefined || s.onclose === null)).toBe(true)
    }
  })
})

describe('connect(): any frame', () => {
  it('never throws, never ends event$, and delivers the next good event (property)', async () => {
    const errors: unknown[] = []
    const previous = config.onUnhandledError
    config.onUnhandledError = (error) => errors.push(error)
    const codes = fc.constantFrom('identity', 'ready', 'done_prior', 'invalid_auth', 'invalid_payload', 'ratelimited', 'other')
    const controlPayload = fc.record({ code: codes, control: fc.constant(true), requests_remaining: fc.integer({ min: -5, max: 20 }), detail: fc.string() })
    const segment = fc.oneof(
      fc.string(),
      fc.json(),
      controlPayload.map((p) => JSON.stringify(p)),
      fc.record({ m: fc.record({ e: fc.integer(), eid: fc.string(), ts: fc.double({ noNaN: true }) }), ctx: fc.object() }).map((e) => JSON.stringify(e)),
    )
    const frame = fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('\x1f\x1f'))
    try {
      fc.assert(
        fc.property(fc.boolean(), fc.array(frame, { maxLength: 8 }), (sendAll, frames) => {
          const h = harness({ sendAll })
          let ended = false
          h.client.event$.subscribe({ error: () => (ended = true), complete: () => (ended = true) })
          h.last().handshake()
          for (const f of frames) h.last().frame(f)
          h.last().frame(control('done_prior', 18))
          h.last().frame(eventFrame('the-last-one'))
          expect(ended).toBe(false)
          expect(h.events.at(-1)?.m.eid).toBe('the-last-one')
          expect(errors).toEqual([])
          h.leave()
        }),
        { numRuns: 300 },
      )
      // rxjs reports an error thrown in a subscriber on a later macrotask.
      await new Promise((resolve) => setTimeout(resolve, 0))
      expect(errors).toEqual([])
    } finally {
      config.onUnhandledError = previous
    }
  })
})
