import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/index.js'
import type { ConnectionStatus } from './status.js'
import { initialTabState, type TabEffect, type TabInput, type TabState, tabMessage, tabStep } from './tabs-machine.js'

// The tabs' protocol without a browser: inputs in, effects out.
const config = { resume: true }
const event = (eid: string, ts: number, extra: Partial<ReceivedEvent> = {}): ReceivedEvent => ({ m: { e: 0, eid, ts, t: -1 }, ctx: { user: '1', votes: 1 }, ...extra })
const live: ConnectionStatus = { state: 'live', since: 5 }

function run(inputs: readonly TabInput[], state: TabState = initialTabState('me', 0)) {
  const effects: TabEffect[] = []
  for (const input of inputs) {
    const result = tabStep(state, input, config)
    state = result.state
    effects.push(...result.effects)
  }
  return { state, effects, types: effects.map((e) => e.type), shown: effects.flatMap((e) => (e.type === 'emit' && e.item[0] === 'status' ? [e.item[1]] : [])) }
}
const waiting = (): TabState => run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: 'fates-rx:1:abc' }]).state

describe('tabStep()', () => {
  it('keys, opens the channel, asks for the lock and says hello, in that order', () => {
    const r = run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: 'fates-rx:1:abc' }])
    expect(r.types).toEqual(['emit', 'key', 'open-channel', 'request-lock', 'post'])
    expect(r.state).toMatchObject({ phase: 'waiting', name: 'fates-rx:1:abc', known: false })
    expect(r.shown.at(-1)).toMatchObject({ state: 'connecting' })
    expect(r.shown.at(-1)?.tabs).toBeUndefined()
  })

  it('ignores replies from a session that ended', () => {
    const s = run([{ type: 'subscribed', at: 1 }, { type: 'unsubscribed', at: 2 }, { type: 'subscribed', at: 3 }]).state
    const r = run([{ type: 'keyed', at: 4, session: 1, name: 'old' }, { type: 'granted', at: 4, session: 1 }], s)
    expect(r.effects).toEqual([])
    expect(r.state.phase).toBe('keying')
    // Waiting again, in session 2: session 1's lock, count and messages are not this one's.
    const again = run([{ type: 'keyed', at: 5, session: 2, name: 'n' }], r.state).state
    const stale = run(
      [
        { type: 'granted', at: 6, session: 1 },
        { type: 'message', at: 6, session: 1, data: { type: 'welcome', to: 'me', status: live } },
      ],
      again,
    )
    expect(stale.effects).toEqual([])
    expect(stale.state).toMatchObject({ phase: 'waiting', known: false })
  })

  it('follows: adopts the leader\'s mark and count, and takes over from the newest mark it has', () => {
    const welcome = { type: 'welcome', to: 'me', status: { ...live, tabs: { role: 'leader', count: 3 } }, mark: { ts: 10, eid: 'x' } }
    const r = run([{ type: 'message', at: 3, session: 1, data: welcome }], waiting())
    expect(r.state).toMatchObject({ known: true, mark: { ts: 10, eid: 'x' } })
    expect(r.shown.at(-1)).toMatchObject({ state: 'live', tabs: { role: 'follower', count: 3 } })
    const t = run(
      [
        { type: 'message', at: 4, session: 1, data: { type: 'out', items: [['event', event('y', 11)]] } },
        { type: 'delivered', at: 4, event: event('y', 11) },
        { type: 'delivered', at: 4, event: event('old', 9) },
        { type: 'delivered', at: 4, event: event('h', 99, { prior: true }) },
        { type: 'granted', at: 5, session: 1 },
      ],
      r.state,
    )
    expect(t.shown.map((s) => s.detail)).toContain('The tab that held the connection left: this tab takes it over and fills the gap.')
    expect(t.effects).toContainEqual({ type: 'open-inner', from: { ts: 11, eid: 'y' } })
    expect(t.state).toMatchObject({ phase: 'leading' })
    // It posts the gap at once, before any follower has said hello to it.
    expect(run([{ type: 'inner', at: 6, item: ['event', event('z', 12, { resumed: true })] }], t.state).types).toContain('broadcast')
  })

  it('leads: posts only once a follower is there, and welcomes it with its status and mark', () => {
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting())
    expect(leading.types).toEqual(['open-inner', 'post', 'query-locks', 'arm-recount'])
    const alone = run([{ type: 'inner', at: 4, item: ['status', live] }, { type: 'inner', at: 4, item: ['event', event('a', 1)] }], leading.state)
    expect(alone.types).not.toContain('broadcast')
    expect(alone.shown.at(-1)).toMatchObject({ state: 'live', tabs: { role: 'leader', count: 1 } })
    const joined = run(
      [
        { type: 'delivered', at: 4, event: event('a', 1) },
        { type: 'message', at: 5, session: 1, data: { type: 'hello', tab: 'other' } },
        { type: 'counted', at: 5, session: 1, waiting: 1 },
        { type: 'inner', at: 6, item: ['event', event('b', 2)] },
      ],
      alone.state,
    )
    expect(joined.effects).toContainEqual({ type: 'welcome', to: 'other', status: { ...live, tabs: { role: 'leader', count: 1 } }, mark: { ts: 1, eid: 'a' } })
    expect(joined.effects).toContainEqual({ type: 'broadcast', item: ['event', event('b', 2)] })
    expect(joined.shown.at(-1)?.tabs).toEqual({ role: 'leader', count: 2 })
  })

  it('posts to a tab that said hello before the lock manager counts it', () => {
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
    const r = run(
      [
        { type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'fresh' } },
        { type: 'inner', at: 4, item: ['event', event('a', 1)] },
      ],
      leading,
    )
    expect(r.effects).toContainEqual({ type: 'broadcast', item: ['event', event('a', 1)] })
    // A count taken while that follower reloads misses it: posting goes on all the same.
    const recounted = run([{ type: 'recount', at: 9 }, { type: 'counted', at: 9, session: 1, waiting: 0 }, { type: 'inner', at: 9, item: ['event', event('b', 2)] }], r.state)
    expect(recounted.state.count).toBe(1)
    expect(recounted.effects).toContainEqual({ type: 'broadcast', item: ['event', event('b', 2)] })
  })

  it('counts a greeted tab whose lock request has not shown up yet, and forgets it at the next recount', () => {
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
    const r = run(
      [
        { type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'fresh' } },
        { type: 'counted', at: 4, session: 1, waiting: 0 },
      ],
      leading,
    )
    expect(r.state.count).toBe(2)
    const later = run([{ type: 'recount', at: 9 }, { type: 'counted', at: 9, session: 1, waiting: 0 }], r.state)
    expect(later.state.count).toBe(1)
    expect(later.types).toContain('arm-recount')
  })

  it('says goodbye as a follower, forgets the mark when the last subscriber leaves, keeps it on close()', () => {
    const welcomed = run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me', status: live, mark: { ts: 4, eid: '' } } }], waiting()).state
    const closed = run([{ type: 'close', at: 5 }], welcomed)
    expect(closed.effects.slice(0, 2)).toEqual([{ type: 'post', message: { type: 'bye', tab: 'me' } }, { type: 'leave' }])
    expect(closed.state).toMatchObject({ phase: 'idle', stopped: true, mark: { ts: 4, eid: '' } })
    expect(closed.shown.at(-1)).toEqual({ state: 'closed', since: 5, detail: 'Closed by the user.' })
    expect(run([{ type: 'reconnect', at: 6 }], closed.state).types).toEqual(['emit', 'key'])
    expect(run([{ type: 'unsubscribed', at: 5 }], welcomed).state.mark).toBeUndefined()
  })

  it('forwards reconnect(): a follower asks the leader, a leader reconnects its own client', () => {
    expect(run([{ type: 'reconnect', at: 3 }], waiting()).effects).toEqual([{ type: 'post', message: { type: 'reconnect' } }])
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
    expect(run([{ type: 'reconnect', at: 4 }], leading).effects).toEqual([{ type: 'inner-reconnect' }])
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'reconnect' } }], leading).effects).toEqual([{ type: 'inner-reconnect' }])
  })
})

describe('tabMessage()', () => {
  it.each([null, 7, 'x', [], {}, { type: 'out' }, { type: 'out', items: 'no' }, { type: 'welcome', to: 1 }, { type: 'welcome', to: 'me' }, { type: 'hello' }, { type: 'bye', tab: 3 }, { type: 'other' }])(
    'refuses %j',
    (data) => expect(tabMessage(data)).toBeUndefined(),
  )
  it.each([{ type: 'out', items: [] }, { type: 'lead' }, { type: 'hello', tab: 't' }, { type: 'bye', tab: 't' }, { type: 'reconnect' }, { type: 'welcome', to: 't', status: live }])(
    'accepts %j',
    (data) => expect(tabMessage(data)).toEqual(data),
  )
})
