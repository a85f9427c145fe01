import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { recordText } from '../persist/persist.js'
import { type HubEffect, type HubInput, type HubState, hubStep, initialHubState } from './hub-machine.js'
import { parseMark } from './tab-streams.js'
import { initialTabState, type TabEffect, type TabInput, type TabState, tabStep } from './tabs-machine.js'

// Illegal moves posted by another tab (or kept in storage), each a literal sequence (a fuzzing
// review's findings, 2026-12-08): the pure
// step neither throws nor leaves a state or effect that breaks what its types and TSDoc say.
const config = { resume: true }
function run(inputs: readonly TabInput[], state: TabState = initialTabState('me', 0)) {
  const effects: TabEffect[] = []
  for (const input of inputs) {
    const result = tabStep(state, input, config)
    state = result.state
    effects.push(...result.effects)
  }
  return { state, effects }
}
function hub(inputs: readonly HubInput[], state: HubState = initialHubState) {
  const effects: HubEffect[] = []
  for (const input of inputs) {
    const result = hubStep(state, input)
    state = result.state
    effects.push(...result.effects)
  }
  return { state, effects }
}
const waiting = (): TabState => run([{ type: 'subscribed', at: 1 }, { type: 'keyed', at: 2, session: 1, name: 'n' }]).state
const live = { state: 'live', since: 1 }
const markOk = (state: TabState): void => {
  const mark = state.mark
  if (mark === undefined) return
  expect(typeof mark.ts).toBe('number')
  expect(mark.ts).not.toBe(Infinity)
  expect(typeof mark.eid).toBe('string')
  expect(mark.clock === undefined || Number.isFinite(mark.clock)).toBe(true)
}

describe('1. a posted mark of the wrong shape (isMark)', () => {
  it("a welcome whose mark's clock is a BigInt does not throw from tabStep", () => {
    const data = { type: 'welcome', to: 'me:1', status: live, mark: { ts: 1, eid: '', clock: 1n }, at: 5 }
    expect(() => run([{ type: 'message', at: 3, session: 1, data }], waiting())).not.toThrow()
  })

  it("a welcome whose mark's clock is text leaves no text clock in the follower's mark", () => {
    const data = { type: 'welcome', to: 'me:1', status: live, mark: { ts: 1, eid: '', clock: '7' }, at: 5 }
    markOk(run([{ type: 'message', at: 3, session: 1, data }], waiting()).state)
  })

  it('a welcome whose mark is +Infinity does not freeze the follower mark above every event', () => {
    const data = { type: 'welcome', to: 'me:1', status: live, mark: { ts: Infinity, eid: '', clock: 0 }, at: 5 }
    markOk(run([{ type: 'message', at: 3, session: 1, data }], waiting()).state)
  })

  it("the hub's open carries only a join mark the worker can write as its record (tied eids are text)", () => {
    const from = { ts: 1, eid: 'e', tied: [1n] }
    const { effects } = hub([{ type: 'message', port: '1', data: { type: 'join', name: 't', options: {}, from } }])
    for (const effect of effects) if (effect.type === 'open' && effect.join.from !== undefined) { const mark = effect.join.from; expect(() => recordText({ ledger: {}, mark })).not.toThrow() }
  })
})

describe('2. a posted event whose m.ts or m.eid is of the wrong type (isPostedEvent)', () => {
  it.each<[string, unknown]>([
    ['text', '99'],
    // Survives structured clone; a follower with no clock yet would take it for its mark.
    ['+Infinity', Number.POSITIVE_INFINITY],
  ])("a follower's mark keeps a finite number ts after delivering an event whose ts is %s", (_, ts) => {
    const event = { m: { eid: 'x', ts }, ctx: {} } as unknown as ReceivedEvent
    const r = run([{ type: 'message', at: 3, session: 1, data: { type: 'out', items: [['event', event]] } }], waiting())
    // The interpreter delivers what the machine emits (after its dedupe).
    const delivered = r.effects.flatMap((e): TabInput[] => (e.type === 'emit' && e.item[0] === 'event' ? [{ type: 'delivered', at: 4, event: e.item[1] }] : []))
    markOk(run(delivered, r.state).state)
  })
})

describe('3. a stored mark of JSON 1e999 (parseMark)', () => {
  it('is not restored as a +Infinity mark that no ready or event ever moves', () => {
    const from = parseMark('{"ts":1e999,"eid":"x"}')
    const r = run([
      { type: 'subscribed', at: 1000 },
      { type: 'keyed', at: 1000, session: 1, name: 'n', ...(from === undefined ? {} : { from }) },
      { type: 'granted', at: 1000, session: 1 },
      { type: 'inner', at: 1000, item: ['control', { code: 'ready', ts: 1 } as never] },
      { type: 'delivered', at: 2000, event: { m: { e: 0, eid: 'y', ts: 2, t: -1 }, ctx: {} } as unknown as ReceivedEvent },
    ])
    markOk(r.state)
    expect(r.state.mark?.eid).toBe('y')
  })
})

describe('4. a count that is not a number (counted)', () => {
  it("keeps a leader's count a number ≥ 1", () => {
    const leading = run([{ type: 'granted', at: 3, session: 1 }], waiting()).state
    const r = run([{ type: 'counted', at: 4, session: 1, waiting: Number.NaN }], leading)
    expect(r.state.count).toBeGreaterThanOrEqual(1)
    for (const e of r.effects) if (e.type === 'emit' && e.item[0] === 'status') expect(e.item[1].tabs?.count).toBeGreaterThanOrEqual(1)
  })
})

describe('5. a port named after a prototype key (hubStep)', () => {
  const joined = (): HubState =>
    hub([
      { type: 'message', port: '1', data: { type: 'join', name: '[object Object]', options: {} } },
      { type: 'upstream', name: '[object Object]', upstream: 1, item: ['status', { state: 'live', since: 1 }] },
    ]).state
  it('a `__proto__` port that never joined reconnects no target', () => {
    expect(hub([{ type: 'message', port: '__proto__', data: { type: 'reconnect' } }], joined()).effects).toEqual([])
  })
  it('a `__proto__` port that never joined leaves nothing (no recount posted to others)', () => {
    expect(hub([{ type: 'message', port: '__proto__', data: { type: 'leave' } }], joined()).effects).toEqual([])
  })
})

describe('1b. a join mark whose pos holds no text (isMark)', () => {
  it("the hub's open carries only a join mark the worker can write as its record", () => {
    const from = { ts: 1, eid: 'e', pos: { global: 7n } }
    const { effects } = hub([{ type: 'message', port: '1', data: { type: 'join', name: 't', options: {}, from } }])
    for (const effect of effects) if (effect.type === 'open' && effect.join.from !== undefined) { const mark = effect.join.from; expect(() => recordText({ ledger: {}, mark })).not.toThrow() }
  })
})
