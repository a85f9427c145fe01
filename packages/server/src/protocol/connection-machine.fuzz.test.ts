import fc from 'fast-check'
// The server connection's machine fed any of its inputs in any order (odd identifies, store
// answers in any phase, NaN and huge counts), checking after each step: no throw, determinism, no
// send, join or lookup after its close, one close only, nothing joined once closed. A fuzzing
// review's (2026-12-08): green, kept as a net.
import { expect, it } from 'vitest'
import { encodeEvent } from '../wire/encode.js'
import { ConnectionTimers, open, step, type ConnectionInput, type ConnectionRules } from './connection-machine.js'

const base: ConnectionRules = { rateLimit: 20, rateWindowMs: 420_000, identifyCost: 2, messageCost: 1, identifyTimeoutMs: 30_000, pingIntervalMs: 54_000, pongTimeoutMs: 60_000, donePriorDelayMs: 1_000, relay: false }
const ident = (x: Record<string, unknown>) => JSON.stringify({ id: '42', token: 'secret', bot: true, ...x })
const refusal = { code: 'upstream_failed', detail: 'x', closeCode: 4503, reason: 'r' }
const input: fc.Arbitrary<ConnectionInput> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ident({}), ident({ send_all: true }), ident({ send_all: true, after: { 'bot-42': 'e1:3', global: 'e1:1' } }), ident({ send_all: true, after: { nope: 'e1:1' } }), ident({ send_all: true, send_none: true }), 'x', '{}', '', ident({ after: {} })).map((data): ConnectionInput => ({ type: 'message', data })) },
  fc.constantFrom<ConnectionInput>({ type: 'pong' }, { type: 'joined' }, { type: 'token', token: 'secret' }, { type: 'token', token: undefined }, { type: 'token', token: '' },
    { type: 'admission', refusal: undefined }, { type: 'admission', refusal: refusal as never }, { type: 'admission-held', hold: { holdMs: 5000, refusal } as never },
    { type: 'store-failed', error: 'e' }, { type: 'fault', error: 'f' }, { type: 'fault', error: 'f', closed: 1006 }, { type: 'interrupt' }, { type: 'shutdown', code: 1001 }, { type: 'terminate' },
    { type: 'tell', code: 'c', detail: 'd' }, { type: 'refuse', refusal: refusal as never }, { type: 'socket-closed', code: 1006 },
    { type: 'overflow', overflow: { type: 'events', limit: 1 } }, { type: 'overflow', overflow: { type: 'bytes', limit: 1 } },
    { type: 'history', events: [] }, { type: 'history', events: [['bot-42', new Map()], ['global', new Map()]] as never }, { type: 'history', events: [['zzz', new Map()]] as never, heads: [], floors: [] }),
  fc.constantFrom(0, 2, 19, 21, -5, 1e300, Number.NaN).map((value): ConnectionInput => ({ type: 'counted', value })),
  fc.constantFrom(...ConnectionTimers).map((timer): ConnectionInput => ({ type: 'timer', timer })),
  fc.constant<ConnectionInput>({ type: 'live', eid: 'e', event: encodeEvent('bot-42', { m: { eid: 'e' } } as never) }),
)
it('the server connection machine survives any input', () => {
  fc.assert(fc.property(fc.array(input, { maxLength: 40 }), fc.boolean(), fc.boolean(), (list, relay, positions) => {
    const rules = { ...base, relay, positions }
    let { state } = open(rules)
    let closedSent = false
    for (const i of list) {
      const r = step(state, i, rules)
      expect(JSON.stringify(step(state, i, rules).effects)).toBe(JSON.stringify(r.effects))
      for (const e of r.effects) {
        if (closedSent) expect(['send-control', 'send-events', 'send-event', 'release', 'join', 'read-history', 'count', 'lookup-token', 'admit']).not.toContain(e.type)
        if (e.type === 'close') { expect(closedSent, 'a second close').toBe(false); closedSent = true }
      }
      state = r.state
      if (state.phase === 'closed') expect(state.joined.length).toBe(0)
      expect(state.backlog).toBeGreaterThanOrEqual(0)
    }
  }), { numRuns: 2_000 })
})
