import fc from 'fast-check'
// hubStep fed port messages of any shape (joins of this version and others: names and ports
// that are prototype keys, marks with BigInt, text or ±Infinity fields, odd locks), gone locks
// stale and current, upstream emissions of current and closed upstreams, checking after each
// step: no throw, determinism, effects naming only joined ports and open upstreams, a join's
// mark one the worker can write as its record, and the state's own agreement (every port in
// exactly its target's list, no empty target). Written by a fuzzing review (2026-12-08), which
// found a `__proto__` port that never joined reconnecting (and recounting) the target named
// `[object Object]`, and a join's non-text `tied` reaching the worker's record (it threw there).
import { expect, it } from 'vitest'
import { recordText } from '../persist/persist.js'
import { type HubEffect, type HubInput, type HubState, hubStep, initialHubState } from './hub-machine.js'

const keys = ['1', '2', '3', '__proto__', 'constructor', 'toString', '[object Object]', 'hasOwnProperty']
const odd = fc.constantFrom<unknown>(undefined, null, 0, Number.NaN, Infinity, -Infinity, '5', 7n, [], {}, [1], true, '__proto__')
const mark = fc.oneof(
  fc.record({ ts: fc.constantFrom(1, 100, -Infinity), eid: fc.constantFrom('', 'a') }),
  fc.record({ ts: fc.oneof(fc.constant(5), odd), eid: fc.oneof(fc.constant('a'), odd), clock: odd, tied: fc.oneof(fc.constant(['a']), odd, fc.constant([1n])), pos: odd }, { requiredKeys: [] }),
)
const data = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('join'), name: fc.oneof(fc.constantFrom(...keys), odd), options: fc.oneof(fc.constant({ sendAll: true }), fc.constant({}), odd), from: mark, record: fc.oneof(fc.constant('{"v":1,"ledger":{}}'), odd), lock: fc.oneof(fc.constantFrom('L1', 'L2'), odd) }, { requiredKeys: ['type', 'name', 'options'] }) },
  fc.record({ type: fc.constantFrom('leave', 'reconnect', 'nope', '__proto__') }),
  odd,
)
const item = fc.oneof(
  fc.constant(['status', { state: 'live', since: 1, gap: 'unknown' }]),
  fc.constant(['control', { code: 'ready', ts: 100 }]),
  fc.record({ eid: fc.constantFrom('a', 'b'), ts: fc.constantFrom(1, 100, 101) }).map((m) => ['event', { m: { e: 0, ...m }, ctx: {} }]),
  fc.constant(['metrics', { frames: 1 }]),
)
type Move = { k: 'message'; port: string; data: unknown } | { k: 'gone'; port: string; lock: string } | { k: 'upstream' | 'stored'; name: string; up: number; item: unknown }
const move: fc.Arbitrary<Move> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant<'message'>('message'), port: fc.constantFrom(...keys), data }) },
  fc.record({ k: fc.constant<'gone'>('gone'), port: fc.constantFrom(...keys), lock: fc.constantFrom('L1', 'L2', '[object Object]') }),
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom<'upstream' | 'stored'>('upstream', 'upstream', 'stored'), name: fc.constantFrom(...keys), up: fc.constantFrom(0, -1, 1), item }) },
)
const show = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))

function check(before: HubState, state: HubState, effects: readonly HubEffect[]): void {
  const joined = new Set([...Object.keys(before.ports), ...Object.keys(state.ports)])
  const upstreams = new Set([...Object.values(before.targets), ...Object.values(state.targets)].map((t) => t.upstream))
  for (const [port, name] of Object.entries(state.ports)) {
    expect(Object.hasOwn(state.targets, name), `port ${port} of ${name}`).toBe(true)
    expect(state.targets[name]?.ports.filter((p) => p === port)).toHaveLength(1)
  }
  for (const [name, target] of Object.entries(state.targets)) {
    expect(target.ports.length, name).toBeGreaterThan(0)
    for (const port of target.ports) expect(Object.hasOwn(state.ports, port) && state.ports[port] === name).toBe(true)
  }
  for (const e of effects) {
    if (e.type === 'post') for (const port of e.ports) expect(joined.has(port), `post to ${port}`).toBe(true)
    if (e.type === 'reconnect' || e.type === 'close') expect(upstreams.has(e.upstream), `${e.type} ${e.upstream}`).toBe(true)
    if (e.type === 'open') {
      expect(typeof e.join.name).toBe('string')
      if (e.join.from !== undefined) { const mark = e.join.from; expect(() => recordText({ ledger: {}, mark })).not.toThrow() }
    }
  }
}

it('the hub survives any port message, gone lock and upstream emission', () => {
  fc.assert(
    fc.property(fc.array(move, { maxLength: 30 }), (moves) => {
      let state = initialHubState
      for (const mv of moves) {
        let input: HubInput
        if (mv.k === 'message') input = { type: 'message', port: mv.port, data: mv.data }
        else if (mv.k === 'gone') input = { type: 'gone', port: mv.port, lock: mv.lock }
        else {
          const up = (Object.hasOwn(state.targets, mv.name) ? state.targets[mv.name]!.upstream : state.upstreams) + mv.up
          input = mv.k === 'upstream' ? { type: 'upstream', name: mv.name, upstream: up, item: mv.item as never } : { type: 'stored', name: mv.name, upstream: up, key: 'k', text: 't' }
        }
        const r = hubStep(state, input, 3)
        expect(show(hubStep(state, input, 3))).toBe(show(r))
        check(state, r.state, r.effects)
        state = r.state
      }
    }),
    { numRuns: 1_500 },
  )
})
