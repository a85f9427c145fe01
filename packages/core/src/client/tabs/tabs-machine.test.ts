import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import type { ConnectionStatus } from '../connection/status.js'
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

  it('says hello with the mark a reload kept, and the leader welcomes it with that mark for the interpreter to fill from', () => {
    const kept = { ts: 7, eid: 'k', clock: 0 }
    const r = run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: 'fates-rx:1:abc', from: kept }])
    expect(r.effects).toContainEqual({ type: 'post', message: { type: 'hello', tab: 'me:1', from: kept } })
    expect(r.state.mark).toEqual(kept)
    // Without one, no `from`.
    expect(run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: 'n' }]).effects).toContainEqual({ type: 'post', message: { type: 'hello', tab: 'me:1' } })
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
    const welcomed = run([{ type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'back', from: kept } }], leading).effects
    expect(welcomed).toContainEqual(expect.objectContaining({ type: 'welcome', to: 'back', from: kept }))
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'new' } }], leading).effects.find((e) => e.type === 'welcome')).not.toHaveProperty('from')
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
        { type: 'message', at: 6, session: 1, data: { type: 'welcome', to: 'me:1', status: live } },
      ],
      again,
    )
    expect(stale.effects).toEqual([])
    expect(stale.state).toMatchObject({ phase: 'waiting', known: false })
  })

  it('follows: adopts the leader\'s mark and count, and takes over from the newest mark it has', () => {
    const welcome = { type: 'welcome', to: 'me:1', status: { ...live, tabs: { role: 'leader', count: 3 } }, mark: { ts: 10, eid: 'x' } }
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

  it('takes over from where a replay it has not seen end began, and from the replay\'s newest once a live event follows it', () => {
    const welcome = { type: 'welcome', to: 'me:1', status: { ...live, tabs: { role: 'leader', count: 2 } }, mark: { ts: 10, eid: 'x' } }
    const r = run([{ type: 'message', at: 3, session: 1, data: welcome }], waiting())
    // A replay comes in any order: until it has ended, what is missing of it is before its events.
    const cut = run([{ type: 'delivered', at: 4, event: event('c', 12, { resumed: true }) }, { type: 'granted', at: 5, session: 1 }], r.state)
    expect(cut.effects).toContainEqual({ type: 'open-inner', from: { ts: 10, eid: 'x' } })
    // A live event after it (stamped earlier: its producer's clock behind): the replay ended.
    const ended = run(
      [
        { type: 'delivered', at: 4, event: event('c', 12, { resumed: true }) },
        { type: 'delivered', at: 4, event: event('d', 11) },
        { type: 'granted', at: 5, session: 1 },
      ],
      r.state,
    )
    expect(ended.effects).toContainEqual({ type: 'open-inner', from: { ts: 12, eid: 'c' } })
    // Or once its done_prior was passed on, after its events: then no live event need follow.
    const done = run([{ type: 'delivered', at: 4, event: event('c', 12, { resumed: true }) }, { type: 'replay-done', at: 4 }, { type: 'granted', at: 5, session: 1 }], r.state)
    expect(done.effects).toContainEqual({ type: 'open-inner', from: { ts: 12, eid: 'c' } })
    // A done_prior with no replay under way leaves the mark as it is.
    expect(run([{ type: 'replay-done', at: 4 }, { type: 'granted', at: 5, session: 1 }], r.state).effects).toContainEqual({ type: 'open-inner', from: { ts: 10, eid: 'x' } })
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
    const welcomed = run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me:1', status: live, mark: { ts: 4, eid: '' } } }], waiting()).state
    const closed = run([{ type: 'close', at: 5 }], welcomed)
    expect(closed.effects.slice(0, 2)).toEqual([{ type: 'post', message: { type: 'bye', tab: 'me:1' } }, { type: 'leave' }])
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
  it.each([null, 7, 'x', [], {}, { type: 'out' }, { type: 'out', items: 'no' }, { type: 'welcome', to: 1 }, { type: 'welcome', to: 'me' }, { type: 'hello' }, { type: 'hello', tab: 't', from: 5 }, { type: 'hello', tab: 't', from: { ts: '1', eid: 'e' } }, { type: 'hello', tab: 't', from: { ts: 1 } }, { type: 'hello', tab: 't', from: { ts: 1, eid: 'e', tied: 3 } }, { type: 'bye', tab: 3 }, { type: 'other' },
    // Another version's or a broken tab's: nothing of it may reach a follower's streams or filters.
    { type: 'hello', tab: 't', from: { ts: Number.NaN, eid: 'e' } },
    { type: 'out', items: [7] }, { type: 'out', items: [['event', 'x']] }, { type: 'out', items: [['event', {}]] }, { type: 'out', items: [['control']] }, { type: 'out', items: [['frame', {}]] },
    { type: 'welcome', to: 't', status: live, mark: null }, { type: 'welcome', to: 't', status: live, mark: { ts: 1 } },
    { type: 'welcome', to: 't', status: live, history: 'x' }, { type: 'welcome', to: 't', status: live, history: [{ ctx: {} }] }])(
    'refuses %j',
    (data) => expect(tabMessage(data)).toBeUndefined(),
  )
  it.each([{ type: 'out', items: [] }, { type: 'lead' }, { type: 'hello', tab: 't' }, { type: 'hello', tab: 't', from: { ts: 1, eid: 'e', tied: ['f'] } }, { type: 'bye', tab: 't' }, { type: 'reconnect' }, { type: 'welcome', to: 't', status: live },
    { type: 'hello', tab: 't', from: { ts: -Infinity, eid: '' } },
    { type: 'out', items: [['event', { m: { eid: 'e' }, ctx: {} }], ['frame', 'text'], ['status', live], ['control', { code: 'ready' }]] },
    { type: 'welcome', to: 't', status: live, mark: { ts: 1, eid: 'e' }, history: [{ m: { eid: 'e' }, ctx: {} }] }])(
    'accepts %j',
    (data) => expect(tabMessage(data)).toEqual(data),
  )
})

// Each rule on its own, so that breaking one shows which (mutation testing found these unguarded).
describe('tabStep(), rule by rule', () => {
  const leading = (): TabState => run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
  const welcomed = (mark?: { ts: number; eid: string }): TabState =>
    run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me:1', status: { ...live, tabs: { role: 'leader', count: 4 } }, ...(mark ? { mark } : {}) } }], waiting()).state

  it('starts idle, closed, knowing nothing', () => {
    expect(initialTabState('t', 7)).toEqual({
      me: 't',
      phase: 'idle',
      session: 0,
      name: undefined,
      subscribed: false,
      stopped: false,
      known: false,
      count: 1,
      greeted: [],
      served: false,
      current: { state: 'closed', since: 7, detail: 'Not opened yet: the connection opens on the first subscription.' },
      mark: undefined,
    })
  })

  it('leads alone, unshared, when the identity cannot be keyed: no channel, no lock, no count', () => {
    const r = run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: undefined }, { type: 'inner', at: 3, item: ['status', live] }])
    expect(r.state.phase).toBe('alone')
    expect(r.types).toEqual(['emit', 'key', 'open-inner', 'emit'])
    expect(r.shown.at(-1)).toEqual({ ...live, tabs: { role: 'leader', count: 1 } })
    expect(run([{ type: 'reconnect', at: 4 }], r.state).effects).toEqual([{ type: 'inner-reconnect' }])
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'x' } }], r.state).effects).toEqual([])
  })

  it('shows its part only once it knows it, and a follower the leader\'s count', () => {
    const w = waiting()
    expect(run([{ type: 'message', at: 3, session: 1, data: { type: 'out', items: [['status', live]] } }], w).shown).toEqual([live])
    const f = welcomed()
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'out', items: [['status', { ...live, tabs: { role: 'leader', count: 6 } }]] } }], f).shown.at(-1)?.tabs).toEqual({ role: 'follower', count: 6 })
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'out', items: [['status', live]] } }], f).shown.at(-1)?.tabs).toEqual({ role: 'follower', count: 1 })
  })

  it('adopts a welcome\'s mark only when it is newer than its own (by m.ts: a tie keeps its own)', () => {
    const own = { ts: 10, eid: 'm' }
    const withOwn = run([{ type: 'delivered', at: 3, event: event('m', 10) }], waiting()).state
    expect(withOwn.mark).toEqual(own)
    const welcome = (mark: { ts: number; eid: string }) =>
      run([{ type: 'message', at: 4, session: 1, data: { type: 'welcome', to: 'me:1', status: live, mark } }], withOwn).state.mark
    expect(welcome({ ts: 9, eid: 'z' })).toEqual(own)
    expect(welcome({ ts: 10, eid: 'a' })).toEqual(own)
    expect(welcome({ ts: 10, eid: 'n' })).toEqual(own)
    expect(welcome({ ts: 11, eid: '' })).toEqual({ ts: 11, eid: '' })
    expect(run([{ type: 'message', at: 4, session: 1, data: { type: 'welcome', to: 'me:1', status: live } }], withOwn).state.mark).toEqual(own)
  })

  it('answers a new leader with hello, and ignores a welcome for another tab', () => {
    expect(run([{ type: 'message', at: 3, session: 1, data: { type: 'lead' } }], waiting()).effects).toEqual([{ type: 'post', message: { type: 'hello', tab: 'me:1' } }])
    const other = run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'you', status: live, mark: { ts: 5, eid: '' } } }], waiting())
    expect(other.effects).toEqual([])
    expect(other.state).toMatchObject({ known: false, mark: undefined })
  })

  it('counts each tab once, forgets only the tab that says goodbye, and counts again', () => {
    const l = leading()
    const hellos = run(
      [
        { type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'a' } },
        { type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'a' } },
        { type: 'message', at: 4, session: 1, data: { type: 'hello', tab: 'b' } },
      ],
      l,
    )
    expect(hellos.state.greeted).toEqual(['a', 'b'])
    const bye = run([{ type: 'message', at: 5, session: 1, data: { type: 'bye', tab: 'a' } }], hellos.state)
    expect(bye.state.greeted).toEqual(['b'])
    expect(bye.effects).toEqual([{ type: 'query-locks', session: 1, name: 'fates-rx:1:abc' }])
    expect(run([{ type: 'counted', at: 6, session: 1, waiting: 0 }], bye.state).state.count).toBe(2)
  })

  it('ignores a count from another session, of another phase, or that changes nothing', () => {
    const l = run([{ type: 'counted', at: 4, session: 1, waiting: 2 }], leading()).state
    expect(l.count).toBe(3)
    expect(run([{ type: 'counted', at: 5, session: 1, waiting: 2 }], l).effects).toEqual([])
    expect(run([{ type: 'counted', at: 5, session: 7, waiting: 5 }], l).state.count).toBe(3)
    expect(run([{ type: 'counted', at: 5, session: 1, waiting: 5 }], waiting()).state.count).toBe(1)
    expect(run([{ type: 'recount', at: 5 }], waiting()).effects).toEqual([])
    expect(run([{ type: 'granted', at: 5, session: 1 }], l).effects).toEqual([])
    expect(run([{ type: 'keyed', at: 5, session: 1, name: 'again' }], l).effects).toEqual([])
  })

  it('takes the first ready\'s ts as its mark while it leads, else the time, and only then', () => {
    const ready = (ts?: number) => ({ code: 'ready', control: true, ...(ts === undefined ? {} : { ts }) }) as never
    expect(run([{ type: 'inner', at: 9000, item: ['control', ready(42)] }], leading()).state.mark).toEqual({ ts: 42, eid: '', clock: 33 })
    expect(run([{ type: 'inner', at: 9000, item: ['control', ready()] }], leading()).state.mark).toEqual({ ts: 9, eid: '', clock: 0 })
    expect(run([{ type: 'inner', at: 9000, item: ['control', { code: 'identity', control: true, ts: 42 } as never] }], leading()).state.mark).toBeUndefined()
    const marked = run([{ type: 'inner', at: 1, item: ['control', ready(42)] }, { type: 'inner', at: 2, item: ['control', ready(50)] }], leading())
    expect(marked.state.mark).toEqual({ ts: 42, eid: '', clock: 42 - 0.001 })
    expect(tabStep(leading(), { type: 'inner', at: 1, item: ['control', ready(42)] }, { resume: false }).state.mark).toBeUndefined()
    // Not while it follows: the leader's controls come as messages.
    expect(run([{ type: 'inner', at: 1, item: ['control', ready(42)] }], waiting()).effects).toEqual([])
  })

  it('does nothing when closed twice, stays closed while stopped, and rejoins on reconnect() only with a subscriber', () => {
    const l = leading()
    const closed = run([{ type: 'close', at: 5 }], l)
    expect(closed.types).toEqual(['leave', 'emit'])
    expect(closed.state.known).toBe(false)
    expect(run([{ type: 'close', at: 6 }], closed.state).effects).toEqual([])
    const left = run([{ type: 'unsubscribed', at: 6 }, { type: 'subscribed', at: 7 }], closed.state)
    expect(left.state).toMatchObject({ phase: 'idle', subscribed: true, stopped: true })
    expect(left.effects).toEqual([])
    const unsubscribed = run([{ type: 'unsubscribed', at: 8 }, { type: 'reconnect', at: 9 }], left.state)
    expect(unsubscribed.state).toMatchObject({ phase: 'idle', subscribed: false, stopped: false })
    expect(unsubscribed.types).toEqual([])
    expect(run([{ type: 'subscribed', at: 10 }], unsubscribed.state).shown.at(-1)).toEqual({ state: 'connecting', since: 10, detail: 'Looking for a tab that holds this connection already.' })
    expect(run([{ type: 'unsubscribed', at: 8 }], l).shown.at(-1)).toEqual({ state: 'closed', since: 8, detail: 'No subscribers left.' })
    expect(run([{ type: 'reconnect', at: 3 }], run([{ type: 'subscribed', at: 1 }]).state).effects).toEqual([])
  })
})

describe('tabStep(), exactly', () => {
  it('leads with these effects, in this order, and passes its own diagnostics to its streams only', () => {
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting())
    expect(leading.effects).toEqual([{ type: 'open-inner', from: undefined }, { type: 'post', message: { type: 'lead' } }, { type: 'query-locks', session: 1, name: 'fates-rx:1:abc' }, { type: 'arm-recount' }])
    const diagnostic = { kind: 'not-json', message: 'x', raw: 'x' } as const
    expect(run([{ type: 'inner', at: 4, item: ['diagnostic', diagnostic] }], leading.state).effects).toEqual([{ type: 'emit', item: ['diagnostic', diagnostic] }])
    expect(tabStep(leading.state, { type: 'delivered', at: 4, event: event('a', 1) }, config).effects).toEqual([])
  })

  it('says reconnecting when it takes over', () => {
    const takeover = run([{ type: 'granted', at: 5, session: 1 }], run([{ type: 'message', at: 3, session: 1, data: { type: 'welcome', to: 'me:1', status: live } }], waiting()).state)
    expect(takeover.shown[0]).toEqual({
      state: 'reconnecting',
      since: 5,
      attempt: 0,
      delayMs: 0,
      nextRetryAt: 5,
      detail: 'The tab that held the connection left: this tab takes it over and fills the gap.',
      tabs: { role: 'leader', count: 1 },
    })
  })

  it('refuses a welcome whose addressee is not a tab id', () => {
    expect(tabMessage({ type: 'welcome', to: 1, status: live })).toBeUndefined()
  })
})
