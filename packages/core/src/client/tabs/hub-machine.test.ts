import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { type HubEffect, type HubInput, type HubJoin, type HubState, hubStatus, hubStep, initialHubState, portMessage } from './hub-machine.js'
import type { ConnectionStatus } from '../connection/status.js'

// The hub's rules, one input at a time, with no worker, port or socket.

const join = (name: string, extra: Partial<HubJoin> = {}): unknown => ({ type: 'join', name, options: { url: 'ws://x/ws' }, ...extra })
const event = (eid: string, ts: number): ReceivedEvent => ({ m: { e: 0, eid, ts, t: -1 }, ctx: {} }) as unknown as ReceivedEvent
const live: ConnectionStatus = { state: 'live', since: 1 }

/** Feeds inputs in order; returns the last state and every effect. */
function run(inputs: readonly HubInput[], recent?: number, from: HubState = initialHubState): { state: HubState; effects: HubEffect[] } {
  let state = from
  const effects: HubEffect[] = []
  for (const input of inputs) {
    const result = hubStep(state, input, recent)
    state = result.state
    effects.push(...result.effects)
  }
  return { state, effects }
}
const msg = (port: string, data: unknown): HubInput => ({ type: 'message', port, data })
const up = (name: string, upstream: number, item: HubInput extends infer I ? (I extends { item: infer X } ? X : never) : never): HubInput => ({ type: 'upstream', name, upstream, item })
const ofType = <T extends HubEffect['type']>(effects: readonly HubEffect[], type: T) => effects.filter((e): e is Extract<HubEffect, { type: T }> => e.type === type)

describe('hubStep', () => {
  it('opens one upstream per target, however many ports join it, and one per other target', () => {
    const { state, effects } = run([msg('1', join('a')), msg('2', join('a')), msg('3', join('b'))])
    expect(ofType(effects, 'open').map((e) => [e.name, e.upstream])).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(state.targets['a']?.ports).toEqual(['1', '2'])
    expect(state.ports).toEqual({ '1': 'a', '2': 'a', '3': 'b' })
  })

  it('passes the first join (options, mark, record) to the upstream it opens', () => {
    const first = join('a', { from: { ts: 5, eid: 'e' }, record: '{}' }) as HubJoin
    const { effects } = run([msg('1', first)])
    expect(ofType(effects, 'open')[0]?.join).toBe(first)
  })

  it('closes the upstream when the last port leaves, not before, and reopens a new one on the next join', () => {
    const { state, effects } = run([msg('1', join('a')), msg('2', join('a', { lock: 'L2' })), msg('1', { type: 'leave' })])
    expect(ofType(effects, 'close')).toEqual([])
    const after = run([{ type: 'gone', port: '2', lock: 'L2' }, msg('3', join('a'))], undefined, state)
    expect(ofType(after.effects, 'close')).toEqual([{ type: 'close', upstream: 1 }])
    expect(ofType(after.effects, 'open').map((e) => e.upstream)).toEqual([2])
    expect(after.state.ports).toEqual({ '3': 'a' })
  })

  it('a port that joins another target leaves its first one', () => {
    const { state, effects } = run([msg('1', join('a')), msg('1', join('b'))])
    expect(ofType(effects, 'close')).toEqual([{ type: 'close', upstream: 1 }])
    expect(state.targets['a']).toBeUndefined()
    expect(state.ports).toEqual({ '1': 'b' })
  })

  it('fans the upstream out to every port of its target only, the status with the worker role and count', () => {
    const { effects } = run([msg('1', join('a')), msg('2', join('a')), msg('3', join('b')), up('a', 1, ['status', live]), up('a', 1, ['control', { t: 'ready' } as never])])
    const posts = ofType(effects, 'post').filter((e) => e.message.type === 'out')
    expect(posts).toEqual([
      { type: 'post', ports: ['1', '2'], message: { type: 'out', items: [['status', { ...live, tabs: { role: 'worker', count: 2 } }]] } },
      { type: 'post', ports: ['1', '2'], message: { type: 'out', items: [['control', { t: 'ready' }]] } },
    ])
  })

  it('ignores an upstream that is not the target’s current one (closed) and a target that is gone', () => {
    const { state } = run([msg('1', join('a')), msg('1', { type: 'leave' }), msg('2', join('a'))])
    const { effects } = run([up('a', 1, ['status', live]), up('zz', 2, ['status', live]), { type: 'stored', name: 'a', upstream: 1, key: 'k', text: 't' }], undefined, state)
    expect(effects).toEqual([])
  })

  it('welcomes a joining port with the status (new count) and tells the others the count', () => {
    const { state } = run([msg('1', join('a')), up('a', 1, ['status', live])])
    const { effects } = run([msg('2', join('a'))], undefined, state)
    expect(effects).toEqual([
      { type: 'post', ports: ['2'], message: { type: 'welcome', status: hubStatus(live, 2), history: [] } },
      { type: 'post', ports: ['1'], message: { type: 'out', items: [['status', hubStatus(live, 2)]] } },
    ])
  })

  it('welcomes the first port without a status (the upstream has not emitted)', () => {
    const { effects } = run([msg('1', join('a'))])
    expect(ofType(effects, 'post')).toEqual([{ type: 'post', ports: ['1'], message: { type: 'welcome', history: [] } }])
  })

  it('tells the remaining ports the new count when one leaves', () => {
    const { state } = run([msg('1', join('a')), msg('2', join('a')), up('a', 1, ['status', live])])
    const { effects } = run([msg('2', { type: 'leave' })], undefined, state)
    expect(effects).toEqual([{ type: 'post', ports: ['1'], message: { type: 'out', items: [['status', hubStatus(live, 1)]] } }])
  })

  it('tells nobody a count before the upstream has a status to carry it', () => {
    const { effects } = run([msg('1', join('a')), msg('2', join('a')), msg('2', { type: 'leave' })])
    expect(ofType(effects, 'post').filter((e) => e.message.type === 'out')).toEqual([])
  })

  it('remembers events only, not the other emissions', () => {
    const { state } = run([msg('1', join('a')), up('a', 1, ['status', live]), up('a', 1, ['frame', 'x']), up('a', 1, ['event', event('e1', 1)])])
    expect(state.targets['a']?.recent.map((e) => e.m.eid)).toEqual(['e1'])
  })

  it('gives a rejoining port the remembered events after its mark, resumed, and none without a mark', () => {
    const events = [event('e1', 10), event('e2', 20), event('e3', 30)]
    const { state } = run([msg('1', join('a')), ...events.map((e) => up('a', 1, ['event', e]))])
    const marked = run([msg('2', join('a', { from: { ts: 20, eid: 'e2' } }))], undefined, state)
    const welcome = ofType(marked.effects, 'post')[0]?.message
    expect(welcome).toEqual({ type: 'welcome', history: [{ ...events[2], resumed: true }] })
    const unmarked = run([msg('3', join('a'))], undefined, state)
    expect(ofType(unmarked.effects, 'post')[0]?.message).toEqual({ type: 'welcome', history: [] })
  })

  it('gives a new port (no mark) of a sendAll target every remembered event, as they came: the history its own identify would replay', () => {
    const events = [{ ...event('e1', 10), prior: true }, event('e2', 20)] as ReceivedEvent[]
    const all = (name: string) => join(name, { options: { url: 'ws://x/ws', sendAll: true } })
    const { state } = run([msg('1', all('a')), ...events.map((e) => up('a', 1, ['event', e]))])
    const welcome = ofType(run([msg('2', all('a'))], undefined, state).effects, 'post')[0]?.message
    expect(welcome).toEqual({ type: 'welcome', history: events })
    // With a mark, only what followed it, as for any target.
    const marked = ofType(run([msg('3', join('a', { options: { url: 'ws://x/ws', sendAll: true }, from: { ts: 10, eid: 'e1' } }))], undefined, state).effects, 'post')[0]?.message
    expect(marked).toEqual({ type: 'welcome', history: [{ ...events[1], resumed: true }] })
  })

  it('tells a rejoining port whether its fill is whole: from a second past the upstream\'s first ready, at that ready, or back to a remembered event in its unbroken run; unknown before', () => {
    const welcomeGap = (state: HubState, from: { ts: number; eid: string }) => {
      const post = ofType(run([msg('9', join('a', { from }))], undefined, state).effects, 'post')[0]?.message
      return post?.type === 'welcome' ? post.status?.gap : 'no welcome'
    }
    const ready = (ts: number) => up('a', 1, ['control', { code: 'ready', control: true, ts } as never])
    // Opened by a tab with a mark at 15 (only a claim: its resume may not reach back); ready at 18.
    const opened = run([msg('1', join('a', { from: { ts: 15, eid: 'm' } })), up('a', 1, ['status', live]), ready(18), up('a', 1, ['event', event('e20', 20)])]).state
    expect(welcomeGap(opened, { ts: 19, eid: 'x' })).toBe('filled')
    expect(welcomeGap(opened, { ts: 18, eid: '' })).toBe('filled')
    expect(welcomeGap(opened, { ts: 20, eid: 'e20' })).toBe('filled')
    expect(welcomeGap(opened, { ts: 18.5, eid: 'x' })).toBe('unknown')
    expect(welcomeGap(opened, { ts: 15, eid: 'm' })).toBe('unknown')
    // Its resume from 15 reached back (its status says the gap filled): 15 and later are covered.
    const resumed = run([up('a', 1, ['status', { ...live, since: 25, gap: 'filled' }])], undefined, opened).state
    expect(welcomeGap(resumed, { ts: 15, eid: 'm' })).toBe('filled')
    expect(welcomeGap(resumed, { ts: 16, eid: 'x' })).toBe('filled')
    expect(welcomeGap(resumed, { ts: 15, eid: 'other' })).toBe('unknown')
    expect(welcomeGap(resumed, { ts: 14, eid: 'x' })).toBe('unknown')
    // A later drop whose replay fell short breaks that too.
    expect(welcomeGap(run([ready(60), up('a', 1, ['status', { ...live, since: 61, gap: 'unknown' }])], undefined, resumed).state, { ts: 16, eid: 'x' })).toBe('unknown')
    // The upstream's own gap was not filled (a drop whose replay fell short): only the new run counts.
    const unknown = run([up('a', 1, ['status', { ...live, since: 30, gap: 'unknown' }]), ready(40), up('a', 1, ['event', event('e41', 41)])], undefined, run([ready(31)], undefined, opened).state).state
    expect(welcomeGap(unknown, { ts: 20, eid: 'e20' })).toBe('unknown')
    expect(welcomeGap(unknown, { ts: 32, eid: 'x' })).toBe('filled')
    // A ready that does not say when begins no run: an unknown gap after it breaks the run with none.
    const noTsReady = run([up('a', 1, ['control', { code: 'ready', control: true } as never]), up('a', 1, ['status', { ...live, since: 50, gap: 'unknown' }])], undefined, opened).state
    expect(welcomeGap(noTsReady, { ts: 19, eid: 'x' })).toBe('unknown')
    // An event without m.ts reaches back to nothing.
    const noTs = run([up('a', 1, ['event', { m: { e: 0, eid: 'n', t: -1 }, ctx: {} } as unknown as ReceivedEvent])], undefined, opened).state
    expect(welcomeGap(noTs, { ts: 17, eid: 'x' })).toBe('unknown')
    // Once events were let go, a mark older than the newest of them is not filled.
    const trimmed = run([msg('1', join('a')), up('a', 1, ['status', live]), ready(5), ...[30, 10, 20].map((ts) => up('a', 1, ['event', event(`e${ts}`, ts)]))], 2).state
    expect(welcomeGap(trimmed, { ts: 20, eid: 'e20' })).toBe('unknown')
    // At an event let go (a burst sharing its ts may not all be remembered): unknown; past it, filled.
    expect(welcomeGap(trimmed, { ts: 30, eid: 'e30' })).toBe('unknown')
    expect(welcomeGap(trimmed, { ts: 31, eid: 'x' })).toBe('filled')
    // Shown again (a welcome, a count), a status does not carry the gap of its transition.
    const gapped = run([up('a', 1, ['status', { ...live, since: 60, gap: 'unknown' }])], undefined, opened)
    expect(ofType(gapped.effects, 'post')[0]?.message).toMatchObject({ type: 'out', items: [['status', { gap: 'unknown' }]] })
    const counted = run([msg('7', join('a'))], undefined, gapped.state).effects
    const recounted = ofType(counted, 'post').map((e) => e.message)
    expect(recounted.map((m) => (m.type === 'welcome' ? m.status : m.type === 'out' ? m.items[0]?.[1] : undefined))).toEqual([expect.not.objectContaining({ gap: 'unknown' }), expect.not.objectContaining({ gap: 'unknown' })])
    const left = ofType(run([msg('7', { type: 'leave' })], undefined, run([msg('7', join('a'))], undefined, gapped.state).state).effects, 'post')[0]?.message
    expect(left).toMatchObject({ type: 'out', items: [['status', { state: 'live' }]] })
    expect(left?.type === 'out' ? left.items[0]?.[1] : undefined).not.toHaveProperty('gap')
    // A port without a mark hears no gap.
    const fresh = ofType(run([msg('8', join('a'))], undefined, opened).effects, 'post')[0]?.message
    expect(fresh?.type === 'welcome' ? fresh.status : undefined).not.toHaveProperty('gap')
  })

  it('remembers at most `recent` events, the newest', () => {
    const { state } = run([msg('1', join('a')), ...[1, 2, 3, 4].map((n) => up('a', 1, ['event', event(`e${n}`, n)]))], 2)
    expect(state.targets['a']?.recent.map((e) => e.m.eid)).toEqual(['e3', 'e4'])
    const exact = run([msg('1', join('a')), ...[1, 2].map((n) => up('a', 1, ['event', event(`e${n}`, n)]))], 2)
    expect(exact.state.targets['a']?.recent.map((e) => e.m.eid)).toEqual(['e1', 'e2'])
  })

  it('passes a port’s reconnect to its target’s upstream, and ignores one from a port that has not joined', () => {
    const { effects } = run([msg('9', { type: 'reconnect' }), msg('1', join('a')), msg('1', { type: 'reconnect' })])
    expect(ofType(effects, 'reconnect')).toEqual([{ type: 'reconnect', upstream: 1 }])
  })

  it('watches a joining tab’s lock, and a port gone twice or never joined changes nothing', () => {
    const { state, effects } = run([msg('1', join('a', { lock: 'L1' })), msg('2', join('a'))])
    expect(ofType(effects, 'watch')).toEqual([{ type: 'watch', port: '1', lock: 'L1' }])
    expect(state.watched).toEqual({ '1': 'L1' })
    const gone = run(
      [
        { type: 'gone', port: '1', lock: 'L1' },
        { type: 'gone', port: '1', lock: 'L1' },
        { type: 'gone', port: '7', lock: 'L7' },
      ],
      undefined,
      state,
    )
    expect(gone.state.ports).toEqual({ '2': 'a' })
    expect(gone.state.watched).toEqual({})
    expect(ofType(gone.effects, 'close')).toEqual([])
  })

  it('ends a join by the lock of that join only: a tab that left and joined again at once keeps its new join when its old lock is granted', () => {
    const { state } = run([msg('1', join('a', { lock: 'L1' })), msg('2', join('a')), msg('1', { type: 'leave' }), msg('1', join('a', { lock: 'L1b' }))])
    expect(state.watched).toEqual({ '1': 'L1b' })
    const stale = run([{ type: 'gone', port: '1', lock: 'L1' }], undefined, state)
    expect(stale.state).toBe(state)
    expect(stale.effects).toEqual([])
    // The grant of the new join's lock ends it; a port that joins without a lock is never watched.
    const gone = run([{ type: 'gone', port: '1', lock: 'L1b' }, { type: 'gone', port: '2', lock: 'L1b' }], undefined, state)
    expect(gone.state.ports).toEqual({ '2': 'a' })
  })

  it('sends a stored record to every port of its target', () => {
    const { effects } = run([msg('1', join('a')), msg('2', join('a')), { type: 'stored', name: 'a', upstream: 1, key: 'k', text: 't' }])
    expect(ofType(effects, 'post').at(-1)).toEqual({ type: 'post', ports: ['1', '2'], message: { type: 'store', key: 'k', text: 't' } })
  })

  it('ignores what is not a port message', () => {
    for (const data of [null, 'join', { type: 'join' }, { type: 'join', name: 'a' }, { type: 'join', name: 1, options: {} }, { type: 'join', name: 'a', options: {}, from: 5 }, { type: 'join', name: 'a', options: {}, from: { ts: 1, eid: 'e', tied: 2 } }, { type: 'hello' }]) {
      expect(portMessage(data)).toBeUndefined()
      expect(hubStep(initialHubState, msg('1', data))).toEqual({ state: initialHubState, effects: [] })
    }
    expect(portMessage({ type: 'join', name: 'a', options: {}, from: { ts: 1, eid: 'e' } })).toBeDefined()
    expect(portMessage({ type: 'leave' })).toEqual({ type: 'leave' })
    expect(portMessage({ type: 'reconnect' })).toEqual({ type: 'reconnect' })
  })

  it('never changes the state it was given', () => {
    const before = run([msg('1', join('a')), up('a', 1, ['status', live])]).state
    const frozen = JSON.stringify(before)
    run([msg('2', join('a')), up('a', 1, ['event', event('x', 1)]), msg('1', { type: 'leave' }), msg('2', { type: 'leave' })], undefined, before)
    expect(JSON.stringify(before)).toBe(frozen)
  })
})

describe('a target named as a key of Object.prototype', () => {
  // Found by fuzzing the machine (2026-12-08): the hub's targets are a plain object, so a join
  // naming its target `constructor` found Object.prototype's, took it for an open target (no
  // upstream opened) and threw spreading its `ports`: in the worker every tab shares.
  it.each(['constructor', 'toString', 'hasOwnProperty'])('%s: a join opens an upstream for it, without a throw', (name) => {
    const { state, effects } = hubStep(initialHubState, { type: 'message', port: '1', data: { type: 'join', name, options: { url: 'ws://x/ws' } } })
    expect(effects.filter((effect) => effect.type === 'open')).toHaveLength(1)
    expect(state.ports['1']).toBe(name)
  })
})
