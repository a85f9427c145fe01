import { take } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { control, eventFrame } from '../../test-support/frames.js'
import { harness, token } from '../../test-support/virtual-client.js'
import type { ConnectOptions } from '../options.js'
import { type ConnectionState, Transitions } from './status.js'

type Harness = ReturnType<typeof harness>

interface Walk {
  readonly from: ConnectionState
  readonly to: ConnectionState
  readonly how: string
  readonly options?: () => Partial<ConnectOptions>
  readonly reach: (h: Harness) => void
  readonly act: (h: Harness) => void
}

const toLive = (h: Harness) => h.last().handshake()
const toClosed = (h: Harness) => {
  h.last().handshake()
  h.client.close()
}
const spent = (h: Harness) => h.last().handshake(1)
const toFailed = (h: Harness) => {
  h.last().open()
  h.last().closeFromServer(4004, 'Invalid authentication, try again')
}
const toReplaying = (h: Harness) => h.last().handshake()
const toReconnecting = (h: Harness) => {
  h.last().handshake()
  h.last().closeFromServer(1006)
}
const badSecondRead = () => {
  let reads = 0
  return { url: () => (reads++ === 0 ? 'ws://127.0.0.1:9/ws' : 'http://wrong.test/') }
}

const walks: Walk[] = [
  { from: 'closed', to: 'connecting', how: 'reconnect() after close()', reach: toClosed, act: (h) => h.client.reconnect() },
  {
    from: 'closed', to: 'reconnecting', how: 'reconnect() with the identify budget spent',
    reach: (h) => { spent(h); h.client.close() }, act: (h) => h.client.reconnect(),
  },
  { from: 'closed', to: 'failed', how: 'reconnect() when the url function returns a bad url', options: badSecondRead, reach: toClosed, act: (h) => h.client.reconnect() },
  {
    // Unsubscribed, so its statuses are read with take(1), which opens nothing.
    from: 'closed', to: 'closed', how: 'close() after the last subscriber left',
    reach: (h) => { h.leave(); h.client.status$.pipe(take(1)).subscribe((s) => h.statuses.push(s)) },
    act: (h) => { h.client.close(); h.client.status$.pipe(take(1)).subscribe((s) => h.statuses.push(s)) },
  },
  { from: 'connecting', to: 'identifying', how: 'the socket opens', reach: () => undefined, act: (h) => h.last().open() },
  { from: 'connecting', to: 'reconnecting', how: 'the connection is refused (1006)', reach: () => undefined, act: (h) => h.last().closeFromServer(1006) },
  { from: 'connecting', to: 'failed', how: 'a drop with no attempts allowed', options: () => ({ backoff: { maxAttempts: 0 } }), reach: () => undefined, act: (h) => h.last().closeFromServer(1006) },
  { from: 'connecting', to: 'closed', how: 'close()', reach: () => undefined, act: (h) => h.client.close() },
  { from: 'identifying', to: 'replaying', how: 'ready on a sendAll connection', options: () => ({ sendAll: true }), reach: (h) => h.last().open(), act: (h) => h.last().handshake() },
  { from: 'identifying', to: 'live', how: 'identity, identify, ready', reach: (h) => h.last().open(), act: (h) => h.last().handshake() },
  { from: 'identifying', to: 'reconnecting', how: 'no identity in time', reach: (h) => h.last().open(), act: (h) => h.clock.advance(10_000) },
  { from: 'identifying', to: 'failed', how: 'close 4004', reach: (h) => h.last().open(), act: (h) => h.last().closeFromServer(4004) },
  { from: 'identifying', to: 'closed', how: 'close()', reach: (h) => h.last().open(), act: (h) => h.client.close() },
  { from: 'replaying', to: 'live', how: 'done_prior', options: () => ({ sendAll: true }), reach: toReplaying, act: (h) => h.last().frame(control('done_prior', 18)) },
  { from: 'replaying', to: 'reconnecting', how: 'a drop mid-replay', options: () => ({ sendAll: true }), reach: toReplaying, act: (h) => h.last().closeFromServer(1006) },
  { from: 'replaying', to: 'failed', how: 'close 1009', options: () => ({ sendAll: true }), reach: toReplaying, act: (h) => h.last().closeFromServer(1009) },
  { from: 'replaying', to: 'closed', how: 'close()', options: () => ({ sendAll: true }), reach: toReplaying, act: (h) => h.client.close() },
  { from: 'live', to: 'reconnecting', how: 'close 4500', reach: toLive, act: (h) => h.last().closeFromServer(4500) },
  { from: 'live', to: 'failed', how: 'close 1009', reach: toLive, act: (h) => h.last().closeFromServer(1009) },
  { from: 'live', to: 'closed', how: 'close()', reach: toLive, act: (h) => h.client.close() },
  { from: 'reconnecting', to: 'connecting', how: 'the backoff delay passes', reach: toReconnecting, act: (h) => h.clock.advance(250) },
  {
    from: 'reconnecting', to: 'reconnecting', how: 'reconnect() while the budget is spent',
    reach: (h) => { spent(h); h.last().closeFromServer(1006) }, act: (h) => h.client.reconnect(),
  },
  { from: 'reconnecting', to: 'failed', how: 'the url function returns a bad url', options: badSecondRead, reach: toReconnecting, act: (h) => h.clock.advance(250) },
  { from: 'reconnecting', to: 'closed', how: 'close()', reach: toReconnecting, act: (h) => h.client.close() },
  { from: 'failed', to: 'connecting', how: 'reconnect()', reach: toFailed, act: (h) => h.client.reconnect() },
  {
    from: 'failed', to: 'reconnecting', how: 'reconnect() while the budget is spent',
    reach: (h) => { spent(h); h.last().closeFromServer(1009) }, act: (h) => h.client.reconnect(),
  },
  { from: 'failed', to: 'failed', how: 'reconnect() when the url function returns a bad url', options: badSecondRead, reach: toFailed, act: (h) => h.client.reconnect() },
  { from: 'failed', to: 'closed', how: 'close()', reach: toFailed, act: (h) => h.client.close() },
]

describe('the connection state machine', () => {
  it('has a walk for every transition in the table, and none outside it', () => {
    const table = Object.entries(Transitions).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`))
    expect(walks.map((w) => `${w.from}→${w.to}`).sort()).toEqual([...table].sort())
  })

  it.each(walks)('$from → $to: $how', (walk) => {
    const h = harness(walk.options?.() ?? {})
    walk.reach(h)
    expect(h.state()).toBe(walk.from)
    const before = h.statuses.length
    walk.act(h)
    expect(h.statuses.length).toBeGreaterThan(before)
    expect(h.state()).toBe(walk.to)
    // Every status ever emitted followed the table.
    for (let i = 1; i < h.statuses.length; i++) {
      const from = h.statuses[i - 1]?.state as ConnectionState
      expect(Transitions[from] as readonly string[]).toContain(h.statuses[i]?.state)
    }
    expect(JSON.stringify(h.statuses)).not.toContain(token)
  })
})
