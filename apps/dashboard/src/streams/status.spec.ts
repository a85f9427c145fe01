import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ConnectionStatus } from './client.js'
import { countdown, describeStatus, describeTabs, GapUnknownLine, statusView } from './status.js'
import { clockTime } from './feed.js'
import type { ConnectionMetrics } from './client.js'
import { RelayCloseCode, RelayCloseInfo, RelayControlCode } from '@fates-rx/core/protocol'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const authClose = { code: 4004, reason: 'Invalid authentication, try again', meaning: 'The ID or token was rejected.' }
const dropClose = { code: 1006, reason: '', meaning: 'The connection dropped.' }

describe('describeTabs', () => {
  it.each([
    [{ role: 'leader', count: 1 }, 'Leader: this tab holds the connection, no other tab shares it'],
    [{ role: 'leader', count: 5 }, 'Leader: this tab holds the connection 5 tabs share'],
    [{ role: 'follower', count: 2 }, 'Follower: 2 tabs share the connection another tab holds'],
    [{ role: 'worker', count: 3 }, 'Worker: 3 tabs share the connection a SharedWorker holds'],
    [{ role: 'worker', count: 1 }, 'Worker: a SharedWorker holds the connection, no other tab shares it'],
  ] as const)('%o reads %s', (tabs, words) => {
    expect(describeTabs(tabs)).toEqual({ ...tabs, words })
  })

  it('is part of the status when the connection is shared, and only then', () => {
    const shared: ConnectionStatus = { state: 'live', since: 0, tabs: { role: 'follower', count: 3 } }
    expect(describeStatus({ status: shared, replayed: 0 }, 0).tabs).toEqual(describeTabs({ role: 'follower', count: 3 }))
    expect(describeStatus({ status: { state: 'live', since: 0 }, replayed: 0 }, 0)).not.toHaveProperty('tabs')
  })
})

describe('describeStatus', () => {
  it.each([
    [{ state: 'connecting', since: 0 }, 'Connecting…', 'busy'],
    [{ state: 'connecting', since: 0, attempt: 3 }, 'Connecting (attempt 3)…', 'busy'],
    [{ state: 'identifying', since: 0 }, 'Identifying…', 'busy'],
    [{ state: 'replaying', since: 0 }, 'Replaying prior events: 4 received…', 'busy'],
    [{ state: 'live', since: 0 }, 'Live', 'ok'],
    [{ state: 'reconnecting', since: 0, attempt: 2, nextRetryAt: 2_500 }, 'Reconnecting in 2 s (attempt 2)', 'warn'],
    [{ state: 'reconnecting', since: 0 }, 'Reconnecting…', 'warn'],
    [{ state: 'closed', since: 0 }, 'Disconnected', 'idle'],
    [{ state: 'failed', since: 0, close: authClose }, 'Failed: not retrying', 'bad'],
  ] as const)('%o reads %s', (status: ConnectionStatus, headline, tone) => {
    const view = describeStatus({ status, replayed: 4 }, 1_000)
    expect(view.headline).toBe(headline)
    expect(view.tone).toBe(tone)
  })

  it('says why a failed connection stopped, in words', () => {
    const view = describeStatus(
      {
        status: { state: 'failed', since: 0, close: authClose, detail: 'invalid_auth: Invalid bot id or token' },
        replayed: 0,
      },
      0,
    )
    expect(view.lines).toEqual([
      'Last close: 4004. The ID or token was rejected.',
      'invalid_auth: Invalid bot id or token',
    ])
  })

  it('shows time to ready, replayed events and the budget once live', () => {
    const view = describeStatus(
      { status: { state: 'live', since: 0, close: dropClose }, replayed: 1, readyInMs: 41.6, requestsRemaining: 18 },
      0,
    )
    expect(view.lines).toEqual([
      'Ready in 42 ms',
      '1 prior event replayed',
      '18 requests remaining in the ratelimit window',
    ])
  })

  it('behind a relay: says when its upstream is down, and what a 4503 close means', () => {
    const live: ConnectionStatus = { state: 'live', since: 0 }
    const down = describeStatus({ status: live, replayed: 0, upstreamDown: 'The relay lost its upstream.' }, 0)
    expect(down.headline).toBe("Live, but the relay's upstream is connecting")
    expect(down.tone).toBe('warn')
    expect(down.lines).toEqual(['Relay: The relay lost its upstream.'])
    const failed: ConnectionStatus = {
      state: 'reconnecting',
      since: 0,
      close: { code: RelayCloseCode.UpstreamFailed, reason: 'Upstream unavailable, try again later', meaning: 'The connection closed with code 4503.' },
    }
    expect(describeStatus({ status: failed, replayed: 0 }, 0).lines).toEqual([
      `Last close: 4503. ${RelayCloseInfo[RelayCloseCode.UpstreamFailed].meaning}`,
    ])
  })

  it('never counts below zero', () => {
    const status: ConnectionStatus = { state: 'reconnecting', since: 0, nextRetryAt: 100 }
    expect(describeStatus({ status, replayed: 0, requestsRemaining: -2 }, 5_000)).toEqual({
      state: 'reconnecting',
      tone: 'warn',
      headline: 'Reconnecting in 0 s',
      lines: [],
      spoken: 'Reconnecting',
    })
  })

  it.each([
    [{ state: 'connecting', since: 0, attempt: 3 }, 'Connecting (attempt 3)'],
    [{ state: 'replaying', since: 0 }, 'Replaying prior events'],
    [{ state: 'live', since: 0 }, 'Live'],
    [{ state: 'reconnecting', since: 0, attempt: 2, nextRetryAt: 2_500 }, 'Reconnecting (attempt 2)'],
    [{ state: 'failed', since: 0, close: authClose }, 'Failed: not retrying. The ID or token was rejected.'],
  ] as const)('%o is spoken as %s', (status: ConnectionStatus, spoken) => {
    expect(describeStatus({ status, replayed: 4 }, 1_000).spoken).toBe(spoken)
  })

  it('says the warning a live status shows: events that may be missing', () => {
    expect(describeStatus({ status: { state: 'live', since: 0 }, replayed: 0, gapUnknown: true }, 0).spoken).toBe('Live. Some events may be missing')
  })

  it('speaks the same words while the countdown and the replay progress tick', () => {
    const reconnecting: ConnectionStatus = { state: 'reconnecting', since: 0, nextRetryAt: 5_000 }
    const replaying: ConnectionStatus = { state: 'replaying', since: 0 }
    expect(new Set([0, 1_000, 2_000].map((now) => describeStatus({ status: reconnecting, replayed: 0 }, now).spoken)).size).toBe(1)
    expect(new Set([0, 1, 500].map((replayed) => describeStatus({ status: replaying, replayed }, 0).spoken)).size).toBe(1)
  })
})

describe('statusView', () => {
  it('measures time to ready, counts replayed events and takes the budget from control payloads', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const status$ = hot<ConnectionStatus>('a 9ms b 9ms c 9ms d', {
        a: { state: 'connecting', since: 0 },
        b: { state: 'identifying', since: 10 },
        c: { state: 'replaying', since: 20 },
        d: { state: 'live', since: 30 },
      })
      const event$ = hot<ReceivedEvent>('25ms p-q', {
        p: { m: { e: 0 }, ctx: {}, prior: true },
        q: { m: { e: 0 }, ctx: {}, prior: false },
      })
      const control$ = hot<ControlPayload>('20ms r', { r: { code: 'ready', control: true, requests_remaining: 18 } })
      const seen = statusView({ status$, event$, control$ }).pipe(map((v) => [v.headline, ...v.lines]))
      expectObservable(seen).toBe('a 9ms b 9ms (cr)-p 4ms d', {
        a: ['Connecting…'],
        b: ['Identifying…'],
        c: ['Replaying prior events: 0 received…', 'Ready in 20 ms'],
        r: ['Replaying prior events: 0 received…', 'Ready in 20 ms', '18 requests remaining in the ratelimit window'],
        p: ['Replaying prior events: 1 received…', 'Ready in 20 ms', '18 requests remaining in the ratelimit window'],
        d: ['Live', 'Ready in 20 ms', '1 prior event replayed', '18 requests remaining in the ratelimit window'],
      })
      expectSubscriptions(status$.subscriptions).toBe('^')
      expectSubscriptions(event$.subscriptions).toBe('^')
      expectSubscriptions(control$.subscriptions).toBe('^')
    })
  })

  it("behind a relay, follows its upstream_connecting and upstream_live payloads", () => {
    scheduler().run(({ hot, expectObservable }) => {
      const status$ = hot<ConnectionStatus>('a', { a: { state: 'live', since: 0 } })
      const event$ = hot<ReceivedEvent>('-')
      const control$ = hot<ControlPayload>('-d-u', {
        d: { code: RelayControlCode.UpstreamConnecting, detail: 'The relay lost its upstream.', control: true, requests_remaining: 18 },
        u: { code: RelayControlCode.UpstreamLive, detail: 'live', control: true, requests_remaining: 18 },
      })
      const seen = statusView({ status$, event$, control$ }).pipe(map((v) => [v.tone, v.headline, ...v.lines]))
      expectObservable(seen).toBe('ab-c', {
        a: ['ok', 'Live'],
        b: ['warn', "Live, but the relay's upstream is connecting", 'Relay: The relay lost its upstream.', '18 requests remaining in the ratelimit window'],
        c: ['ok', 'Live', '18 requests remaining in the ratelimit window'],
      })
    })
  })

  it('warns that events may be missing after a gap not known filled, through the statuses after it, until the next connection attempt', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const follower = { role: 'worker' as const, count: 2 }
      const status$ = hot<ConnectionStatus>('a-b-c-d', {
        a: { state: 'live', since: 0, gap: 'unknown', tabs: follower },
        // The count changes: the status re-sends the holder's own gap (an older one, filled); the warning stays.
        b: { state: 'live', since: 0, gap: 'filled', tabs: { role: 'worker', count: 3 } },
        c: { state: 'connecting', since: 4 },
        d: { state: 'live', since: 6, gap: 'filled' },
      })
      const event$ = hot<ReceivedEvent>('-')
      const control$ = hot<ControlPayload>('-')
      const seen = statusView({ status$, event$, control$ }).pipe(map((v) => [v.tone, ...v.lines]))
      expectObservable(seen).toBe('a-b-c-d', {
        a: ['warn', GapUnknownLine],
        b: ['warn', GapUnknownLine],
        c: ['busy'],
        d: ['ok', 'Ready in 2 ms'],
      })
    })
  })

  it("behind a relay, shows a retry of its failed upstream as the upstream down", () => {
    scheduler().run(({ hot, expectObservable }) => {
      const status$ = hot<ConnectionStatus>('a', { a: { state: 'live', since: 0 } })
      const event$ = hot<ReceivedEvent>('-')
      const control$ = hot<ControlPayload>('-r-u', {
        r: { code: RelayControlCode.UpstreamRetrying, detail: 'The relay is retrying its failed upstream (attempt 2).', control: true },
        u: { code: RelayControlCode.UpstreamLive, detail: 'live', control: true },
      })
      const seen = statusView({ status$, event$, control$ }).pipe(map((v) => [v.tone, v.headline, ...v.lines]))
      expectObservable(seen).toBe('ab-c', {
        a: ['ok', 'Live'],
        b: ['warn', "Live, but the relay's upstream is connecting", 'Relay: The relay is retrying its failed upstream (attempt 2).'],
        c: ['ok', 'Live'],
      })
    })
  })

  it('counts down to the next retry every second, then stops when the state moves on', () => {
    scheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const status$ = hot<ConnectionStatus>('a 2999ms b', {
        a: { state: 'reconnecting', since: 0, attempt: 2, nextRetryAt: 3_000, close: dropClose },
        b: { state: 'connecting', since: 3_000, attempt: 2 },
      })
      const event$ = cold<ReceivedEvent>('-')
      const control$ = cold<ControlPayload>('-')
      const seen = statusView({ status$, event$, control$ }).pipe(map((v) => v.headline))
      expectObservable(seen, '^ 5000ms !').toBe('a 999ms b 999ms c 999ms d', {
        a: 'Reconnecting in 3 s (attempt 2)',
        b: 'Reconnecting in 2 s (attempt 2)',
        c: 'Reconnecting in 1 s (attempt 2)',
        d: 'Connecting (attempt 2)…',
      })
      expectSubscriptions(status$.subscriptions).toBe('^ 5000ms !')
    })
  })

  it("a follower's time to ready is the holder's (from metrics), never a negative one from the holder's since", () => {
    scheduler().run(({ hot, expectObservable }) => {
      // This tab starts looking at 1000; the holder went live at 500, before this tab existed.
      const status$ = hot<ConnectionStatus>('a 9ms b', {
        a: { state: 'connecting', since: 1_000, detail: 'Looking for a tab that holds this connection already.' },
        b: { state: 'live', since: 500, tabs: { role: 'follower', count: 2 } },
      })
      const metrics: ConnectionMetrics = { frames: 1, bytes: 1, payloads: 1, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }
      const metrics$ = hot<ConnectionMetrics>('15ms m-n', { m: { ...metrics, connectToReadyMs: 42 }, n: { ...metrics, frames: 2, connectToReadyMs: 42 } })
      const seen = statusView({ status$, event$: hot<ReceivedEvent>('-'), control$: hot<ControlPayload>('-'), metrics$ }).pipe(
        map((v) => v.lines.filter((line) => line.startsWith('Ready'))),
      )
      expectObservable(seen).toBe('a 9ms b 4ms c', { a: [], b: [], c: ['Ready in 42 ms'] })
    })
  })

  it('never shows a negative time to ready, even from its own statuses', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const status$ = hot<ConnectionStatus>('a-b', { a: { state: 'connecting', since: 1_000 }, b: { state: 'live', since: 400 } })
      const seen = statusView({ status$, event$: hot<ReceivedEvent>('-'), control$: hot<ControlPayload>('-') }).pipe(map((v) => v.lines))
      expectObservable(seen).toBe('a-b', { a: [], b: [] })
    })
  })
})

describe('a long wait (the ratelimit window)', () => {
  it('says when it will connect, as a clock time and a countdown, and speaks the time only', () => {
    const status: ConnectionStatus = { state: 'reconnecting', since: 0, nextRetryAt: 300_000, detail: '0 requests left in the ratelimit window' }
    const view = describeStatus({ status, replayed: 0 }, 2_000)
    expect(view.headline).toBe(`Connects at ${clockTime(300_000)} (in 4 min 58 s)`)
    expect(clockTime(300_000)).toMatch(/^\d\d:\d\d:\d\d$/)
    expect(view.spoken).toBe(`Waiting to connect at ${clockTime(300_000)}`)
    expect(describeStatus({ status, replayed: 0 }, 299_500).spoken).toBe(view.spoken)
    // A backoff of seconds still reads as one.
    expect(describeStatus({ status: { state: 'reconnecting', since: 0, nextRetryAt: 59_999 }, replayed: 0 }, 0).headline).toBe('Reconnecting in 60 s')
  })

  it.each([
    [0, '0 s'],
    [1, '1 s'],
    [59_000, '59 s'],
    [60_000, '1 min 0 s'],
    [418_001, '6 min 59 s'],
  ])('counts %i ms down as %s', (ms, words) => {
    expect(countdown(ms)).toBe(words)
  })
})
