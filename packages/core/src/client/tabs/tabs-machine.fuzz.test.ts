import fc from 'fast-check'
// tabStep fed every input in every phase (stale, current and future sessions, a lock granted
// twice, counts negative or NaN, replay-done out of order) and channel messages of any shape
// (this version's, another's: fields missing, of the wrong type, null, arrays, BigInt, NaN and
// ±Infinity marks, huge item lists), checking after each step: no throw, determinism,
// well-formed effects, and the TSDoc's invariants (phase vs role, a leader's count ≥ 1, a
// mark's ts a number and eid text, `early` bounded). Written by a fuzzing review (2026-12-08),
// which found a welcome's BigInt `clock` thrown in `rebased`, and text/±Infinity reaching the mark.
import { expect, it } from 'vitest'
import { parseMark } from './tab-streams.js'
import { initialTabState, RecentEvents, type TabEffect, type TabInput, type TabState, tabStep } from './tabs-machine.js'

const odd = fc.constantFrom<unknown>(undefined, null, 0, -1, Number.NaN, Infinity, -Infinity, 1e300, '5', '', 7n, [], {}, [1], { a: 1 }, true, '__proto__', 'constructor')
const mark = fc.oneof(
  fc.record({ ts: fc.constantFrom(1, 100, 2e9, -Infinity, 0), eid: fc.constantFrom('', 'a', 'b'), clock: fc.constantFrom(undefined, 0, 33), tied: fc.constantFrom(undefined, ['a']) }, { requiredKeys: ['ts', 'eid'] }),
  fc.record({ ts: odd, eid: odd, clock: odd, tied: odd, pos: odd }, { requiredKeys: [] }),
)
const m = fc.record({ e: fc.constant(0), eid: fc.oneof(fc.constantFrom('a', 'b', 'c', ''), odd), ts: fc.oneof(fc.constantFrom(1, 100, 101, 2e9), odd), pos: fc.oneof(fc.constant('e1:3'), odd) }, { requiredKeys: [] })
const event = fc.oneof(fc.record({ m, ctx: fc.constant({}), resumed: fc.boolean(), prior: fc.boolean(), chan: fc.constantFrom(undefined, 'global', '__proto__') }, { requiredKeys: ['m', 'ctx'] }), odd)
const status = fc.oneof(fc.record({ state: fc.constantFrom('live', 'connecting', 'closed'), since: fc.constantFrom(1, Number.NaN), gap: fc.constantFrom(undefined, 'filled', 'unknown'), tabs: fc.oneof(fc.constant(undefined), fc.record({ role: fc.constantFrom('leader', 'follower'), count: odd })) }, { requiredKeys: ['state', 'since'] }), odd)
const item = fc.oneof(
  fc.tuple(fc.constant('event'), event),
  fc.tuple(fc.constant('status'), status),
  fc.tuple(fc.constant('control'), fc.oneof(fc.record({ code: fc.constantFrom('ready', 'done_prior', '__proto__'), ts: fc.oneof(fc.constant(100), odd) }), odd)),
  fc.tuple(fc.constantFrom('frame', 'metrics', 'diagnostic', 'nope', '__proto__'), odd),
  odd,
)
const to = fc.constantFrom('me:1', 'me:2', 'me:0', 'other:1', '__proto__')
const data = fc.oneof(
  fc.record({ type: fc.constant('out'), items: fc.oneof(fc.array(item, { maxLength: 4 }), odd), budget: odd, at: odd }, { requiredKeys: ['type', 'items'] }),
  fc.record({ type: fc.constant('welcome'), to, status, mark, history: fc.oneof(fc.array(event, { maxLength: 3 }), odd), metrics: odd, at: odd }, { requiredKeys: ['type', 'to', 'status'] }),
  fc.record({ type: fc.constant('hello'), tab: fc.oneof(to, odd), from: mark }, { requiredKeys: ['type', 'tab'] }),
  fc.record({ type: fc.constantFrom('bye', 'lead', 'reconnect', 'nope'), tab: fc.oneof(to, odd) }),
  odd,
)
const wellFormedItem = fc.oneof(fc.tuple(fc.constant('event'), fc.record({ m: fc.record({ e: fc.constant(0), eid: fc.constantFrom('a', 'b', 'c'), ts: fc.constantFrom(1, 100, 101) }), ctx: fc.constant({}), resumed: fc.boolean() })), fc.constant(['control', { code: 'ready', ts: 100 }]), fc.constant(['control', { code: 'done_prior' }]), fc.constant(['status', { state: 'live', since: 1 }]))
const sess = fc.constantFrom(0, 0, 0, -1, 1) // offsets from the current session
type Move = { k: 'plain'; t: 'subscribed' | 'unsubscribed' | 'close' | 'reconnect' | 'replay-done' | 'recount' } | { k: 'keyed'; s: number; named: boolean; stored: string | undefined } | { k: 'granted' | 'refused'; s: number } | { k: 'counted'; s: number; n: number } | { k: 'message'; s: number; data: unknown } | { k: 'inner'; item: unknown } | { k: 'delivered'; item: unknown } | { k: 'wait'; ms: number }
const move: fc.Arbitrary<Move> = fc.oneof(
  fc.constantFrom<Move>(...(['subscribed', 'unsubscribed', 'close', 'reconnect', 'replay-done', 'recount'] as const).map((t) => ({ k: 'plain' as const, t }))),
  fc.record({ k: fc.constant<'keyed'>('keyed'), s: sess, named: fc.boolean(), stored: fc.constantFrom(undefined, '{"ts":5,"eid":"k"}', '{"ts":1e999,"eid":"k"}', '{"ts":null,"eid":"k","tied":["a",2]}', '{"mark":{"ts":7,"eid":"x"}}', '[]', 'null', '{"ts":"5","eid":"k"}', 'nope') }),
  fc.record({ k: fc.constantFrom<'granted' | 'refused'>('granted', 'granted', 'refused'), s: sess }),
  fc.record({ k: fc.constant<'counted'>('counted'), s: sess, n: fc.constantFrom(0, 1, 3, -5, Number.NaN, Infinity, 2.5) }),
  { weight: 4, arbitrary: fc.record({ k: fc.constant<'message'>('message'), s: sess, data }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant<'inner'>('inner'), item: wellFormedItem }) },
  fc.record({ k: fc.constant<'wait'>('wait'), ms: fc.constantFrom(1, 5000, -5000) }),
)

const roleOf = (s: TabState) => (s.phase === 'leading' || s.phase === 'alone' ? 'leader' : s.phase === 'idle' ? undefined : 'follower')
const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x))

function check(before: TabState, state: TabState, effects: readonly TabEffect[]): void {
  expect(['idle', 'keying', 'waiting', 'leading', 'alone']).toContain(state.phase)
  if (state.phase === 'leading' || state.phase === 'waiting') expect(typeof state.name).toBe('string')
  if (state.phase === 'alone') expect(state.name).toBeUndefined()
  if (state.phase === 'leading' || state.phase === 'alone') expect(state.known).toBe(true)
  if (state.phase === 'idle') expect(state.known).toBe(false)
  expect(Number.isInteger(state.count) && state.count >= 1, `count ${state.count}`).toBe(true)
  if (state.early !== undefined) expect(state.early.length).toBeLessThanOrEqual(RecentEvents)
  for (const mk of [state.mark, state.replayMark]) {
    if (mk === undefined) continue
    expect(typeof mk.ts === 'number' && !Number.isNaN(mk.ts) && mk.ts !== Infinity, `mark ${show(mk)}`).toBe(true)
    expect(typeof mk.eid).toBe('string')
    expect(mk.clock === undefined || Number.isFinite(mk.clock), `clock ${show(mk)}`).toBe(true)
  }
  for (const e of effects) {
    if (e.type === 'key' || e.type === 'open-channel' || e.type === 'request-lock' || e.type === 'query-locks') expect(e.session).toBe(state.session)
    if (e.type === 'open-channel' || e.type === 'request-lock' || e.type === 'query-locks') expect(typeof e.name).toBe('string')
    if (e.type === 'broadcast') expect(state.phase === 'leading' || before.phase === 'leading').toBe(true)
    if (e.type === 'emit' && e.item[0] === 'status') {
      const tabs = e.item[1].tabs
      if (tabs !== undefined) {
        expect(tabs.role).toBe(roleOf(state))
        if (tabs.role === 'leader') expect(tabs.count).toBe(state.count)
      }
    }
  }
}

it('the tabs machine survives any input, and any message, in any phase', () => {
  fc.assert(
    fc.property(fc.array(move, { maxLength: 40 }), fc.boolean(), (moves, resume) => {
      const config = { resume }
      let now = 1_000_000
      let state = initialTabState('me', now)
      const feed = (input: TabInput): void => {
        const before = state
        const r = tabStep(state, input, config)
        expect(show(tabStep(state, input, config))).toBe(show(r))
        check(before, r.state, r.effects)
        state = r.state
        // What the interpreter does: an emitted event comes back as delivered (dedupe aside).
        for (const e of r.effects) if (e.type === 'emit' && e.item[0] === 'event') feed({ type: 'delivered', at: now, event: e.item[1] })
      }
      for (const mv of moves) {
        const s = 'session' in mv ? 0 : state.session + ('s' in mv ? mv.s : 0)
        switch (mv.k) {
          case 'plain': feed({ type: mv.t, at: now }); break
          case 'keyed': {
            const from = parseMark(mv.stored)
            feed({ type: 'keyed', at: now, session: s, name: mv.named ? 'fates-rx:1:abc' : undefined, ...(from === undefined ? {} : { from }) })
            break
          }
          case 'granted': case 'refused': feed({ type: mv.k, at: now, session: s }); break
          case 'counted': feed({ type: 'counted', at: now, session: s, waiting: mv.n }); break
          case 'message': feed({ type: 'message', at: now, session: s, data: mv.data }); break
          case 'inner': feed({ type: 'inner', at: now, item: mv.item as never }); break
          case 'delivered': break
          case 'wait': now += mv.ms; break
        }
      }
    }),
    { numRuns: 1_500 },
  )
})
