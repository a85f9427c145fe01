// The connection machine on its own: pure steps, timers as inputs (virtual time), the phase
// rules as a table. The interpreter over real sockets: test/connection.test.ts and friends.
import { ControlDetail } from '@fates-rx/core/protocol'
import { describe, expect, it } from 'vitest'
import { encodeEvent } from '../wire/encode.js'
import {
  ConnectionTimers,
  open,
  SlowReaderLingerMs,
  step,
  type ConnectionEffect,
  type ConnectionInput,
  type ConnectionMachineState,
  type ConnectionPhase,
  type ConnectionRules,
  configuredRules,
} from './connection-machine.js'

const rules: ConnectionRules = Object.freeze({
  rateLimit: 20,
  rateWindowMs: 420_000,
  identifyCost: 2,
  messageCost: 1,
  identifyTimeoutMs: 30_000,
  pingIntervalMs: 54_000,
  pongTimeoutMs: 60_000,
  donePriorDelayMs: 1_000,
  relay: false,
})
const relayRules: ConnectionRules = Object.freeze({ ...rules, relay: true })

/** Runs inputs from a fresh connection; returns the last state and every effect after `open`. */
function run(inputs: readonly ConnectionInput[], r: ConnectionRules = rules): { state: ConnectionMachineState; effects: ConnectionEffect[] } {
  let { state } = open(r)
  const effects: ConnectionEffect[] = []
  for (const input of inputs) {
    const next = step(state, input, r)
    state = next.state
    effects.push(...next.effects)
  }
  return { state, effects }
}

const message = (data: string | Uint8Array): ConnectionInput => ({ type: 'message', data })
const identify = (extra: Record<string, unknown> = {}): ConnectionInput => message(JSON.stringify({ id: '42', token: 'secret', bot: true, ...extra }))
const token = (...value: [string | undefined] | []): ConnectionInput => ({ type: 'token', token: value.length === 0 ? 'secret' : value[0] })
const counted = (value: number): ConnectionInput => ({ type: 'counted', value })
const joined: ConnectionInput = { type: 'joined' }
const timer = (name: (typeof ConnectionTimers)[number]): ConnectionInput => ({ type: 'timer', timer: name })
const toReady: readonly ConnectionInput[] = [identify(), token(), counted(2), joined]
const toRelayReady: readonly ConnectionInput[] = [identify(), token(), { type: 'admission', refusal: undefined }, joined]
const live = (eid: string): ConnectionInput => ({ type: 'live', eid, event: encodeEvent('bot-42', { m: { eid } }) })
const alive: ConnectionEffect = { type: 'arm', timer: 'dead', ms: 60_000 }

/** Reaches each phase. */
const Reach: Readonly<Record<ConnectionPhase, readonly ConnectionInput[]>> = Object.freeze({
  waiting: [],
  identifying: [identify()],
  ready: toReady,
  closing: [...toReady, { type: 'shutdown', code: 1001 }],
  closed: [...toReady, { type: 'socket-closed', code: 1006 }],
})

const types = (effects: readonly ConnectionEffect[]): string[] => effects.map((e) => (e.type === 'arm' || e.type === 'cancel' ? `${e.type} ${e.timer}` : e.type))

describe('configuredRules', () => {
  it('copies the rules a configuration sets, and nothing else of it (its store, a token)', () => {
    const rules = { rateLimit: 1, rateWindowMs: 2, identifyCost: 3, messageCost: 4, identifyTimeoutMs: 5, pingIntervalMs: 6, pongTimeoutMs: 7, donePriorDelayMs: 8 }
    expect(configuredRules({ ...rules, store: {}, token: 'secret', relay: true } as typeof rules)).toEqual(rules)
  })
})

describe('open', () => {
  it('prompts for the identity and arms the identify, ping and dead-peer timers', () => {
    const { state, effects } = open(rules)
    expect(state).toMatchObject({ phase: 'waiting', awaiting: undefined, remaining: -1, holding: false, backlog: 0, requests: 0, viewing: false })
    expect(effects).toEqual([
      { type: 'send-control', code: 'identity', detail: ControlDetail.identity, remaining: -1 },
      { type: 'arm', timer: 'identify', ms: 30_000 },
      { type: 'arm', timer: 'ping', ms: 54_000 },
      { type: 'arm', timer: 'dead', ms: 60_000 },
    ])
  })

  it('arms no identify timer when the timeout is 0', () => {
    expect(types(open({ ...rules, identifyTimeoutMs: 0 }).effects)).toEqual(['send-control', 'arm ping', 'arm dead'])
  })
})

// What each input does in each phase: the effect types, and the phase after it.
const PhaseRules: readonly (readonly [ConnectionPhase, string, ConnectionInput, readonly string[], ConnectionPhase])[] = [
  ['waiting', 'identify', identify(), ['arm dead', 'cancel identify', 'lookup-token'], 'identifying'],
  ['identifying', 'another message', message('{}'), ['arm dead'], 'identifying'],
  ['ready', 'a later message', message('{}'), ['arm dead', 'count'], 'ready'],
  ['closing', 'a message', message('{}'), [], 'closing'],
  ['closed', 'a message', message('{}'), [], 'closed'],
  ['waiting', 'a pong', { type: 'pong' }, ['arm dead'], 'waiting'],
  ['closing', 'a pong', { type: 'pong' }, ['arm dead'], 'closing'],
  ['closed', 'a pong', { type: 'pong' }, [], 'closed'],
  ['waiting', 'the identify timeout', timer('identify'), ['log', 'close'], 'closing'],
  ['identifying', 'the identify timeout', timer('identify'), [], 'identifying'],
  ['ready', 'the identify timeout', timer('identify'), [], 'ready'],
  ['waiting', 'the ping timer', timer('ping'), ['ping', 'arm ping'], 'waiting'],
  ['closing', 'the ping timer', timer('ping'), ['ping', 'arm ping'], 'closing'],
  ['closed', 'the ping timer', timer('ping'), [], 'closed'],
  ['ready', 'the dead-peer timer', timer('dead'), ['log', 'close', 'arm linger'], 'closing'],
  ['closing', 'the dead-peer timer', timer('dead'), ['log', 'terminate'], 'closing'],
  ['closed', 'the dead-peer timer', timer('dead'), [], 'closed'],
  ['ready', 'the done_prior timer', timer('done-prior'), ['send-control'], 'ready'],
  ['identifying', 'the done_prior timer', timer('done-prior'), [], 'identifying'],
  ['closing', 'the done_prior timer', timer('done-prior'), [], 'closing'],
  ['closing', 'the linger timer', timer('linger'), ['terminate'], 'closing'],
  ['closed', 'the linger timer', timer('linger'), [], 'closed'],
  ['waiting', 'a token answer', token(), [], 'waiting'],
  ['ready', 'a token answer', token(), [], 'ready'],
  ['closing', 'a token answer', token(), [], 'closing'],
  ['waiting', 'a count answer', counted(3), [], 'waiting'],
  ['identifying', 'a count answer before the token', counted(3), [], 'identifying'],
  ['ready', 'a count answer nobody waits for', counted(3), [], 'ready'],
  ['closing', 'a count answer', counted(3), [], 'closing'],
  ['identifying', 'a join answer before the count', joined, [], 'identifying'],
  ['ready', 'a join answer', joined, [], 'ready'],
  ['identifying', 'a history answer not asked for', { type: 'history', events: [] }, [], 'identifying'],
  ['identifying', 'an admission not asked for', { type: 'admission', refusal: undefined }, [], 'identifying'],
  ['waiting', 'a store failure', { type: 'store-failed', error: 'boom' }, ['log', 'store-failed', 'close'], 'closing'],
  ['identifying', 'a store failure', { type: 'store-failed', error: 'boom' }, ['log', 'store-failed', 'close'], 'closing'],
  ['ready', 'a store failure', { type: 'store-failed', error: 'boom' }, ['log', 'store-failed', 'close'], 'closing'],
  ['closing', 'a store failure', { type: 'store-failed', error: 'boom' }, [], 'closing'],
  ['closed', 'a store failure', { type: 'store-failed', error: 'boom' }, [], 'closed'],
  ['waiting', 'a live event', live('a'), [], 'waiting'],
  ['identifying', 'a live event before the join', live('a'), [], 'identifying'],
  ['ready', 'a live event', live('a'), ['send-event'], 'ready'],
  ['closing', 'a live event', live('a'), [], 'closing'],
  ['closed', 'a live event', live('a'), [], 'closed'],
  ['ready', 'an event-count overflow', { type: 'overflow', overflow: { type: 'events', limit: 5 } }, ['log', 'close', 'arm linger'], 'closing'],
  ['ready', 'a byte overflow', { type: 'overflow', overflow: { type: 'bytes', limit: 5 } }, ['log', 'close', 'arm linger'], 'closing'],
  ['closing', 'an overflow', { type: 'overflow', overflow: { type: 'bytes', limit: 5 } }, [], 'closing'],
  ['closed', 'an overflow', { type: 'overflow', overflow: { type: 'events', limit: 5 } }, [], 'closed'],
  ['waiting', 'an interruption', { type: 'interrupt' }, [], 'waiting'],
  ['identifying', 'an interruption', { type: 'interrupt' }, ['close'], 'closing'],
  ['ready', 'an interruption', { type: 'interrupt' }, ['close'], 'closing'],
  ['closing', 'an interruption', { type: 'interrupt' }, [], 'closing'],
  ['waiting', 'a shutdown', { type: 'shutdown', code: 1001 }, ['close'], 'closing'],
  ['ready', 'a shutdown', { type: 'shutdown', code: 1001 }, ['close'], 'closing'],
  ['closing', 'a shutdown', { type: 'shutdown', code: 1001 }, [], 'closing'],
  ['closed', 'a shutdown', { type: 'shutdown', code: 1001 }, [], 'closed'],
  ['closing', 'the shutdown grace running out', { type: 'terminate' }, ['terminate'], 'closing'],
  ['closed', 'the shutdown grace running out', { type: 'terminate' }, [], 'closed'],
  ['waiting', 'a relay tell', { type: 'tell', code: 'c', detail: 'd' }, [], 'waiting'],
  ['identifying', 'a relay tell', { type: 'tell', code: 'c', detail: 'd' }, [], 'identifying'],
  ['ready', 'a relay tell', { type: 'tell', code: 'c', detail: 'd' }, ['send-control'], 'ready'],
  ['waiting', 'a relay refusal', { type: 'refuse', refusal: { code: 'c', detail: 'd', closeCode: 4503, reason: 'r' } }, [], 'waiting'],
  ['identifying', 'a relay refusal', { type: 'refuse', refusal: { code: 'c', detail: 'd', closeCode: 4503, reason: 'r' } }, ['identified', 'log', 'close'], 'closing'],
  ['ready', 'a relay refusal', { type: 'refuse', refusal: { code: 'c', detail: 'd', closeCode: 4503, reason: 'r' } }, ['log', 'close'], 'closing'],
  ['closing', 'a relay refusal', { type: 'refuse', refusal: { code: 'c', detail: 'd', closeCode: 4503, reason: 'r' } }, [], 'closing'],
  ['closing', 'the socket closing', { type: 'socket-closed', code: 1000 }, [...ConnectionTimers.map((t) => `cancel ${t}`), 'discard', 'leave', 'closed', 'log', 'forget'], 'closed'],
  ['waiting', 'the socket closing', { type: 'socket-closed', code: 1000 }, [...ConnectionTimers.map((t) => `cancel ${t}`), 'discard', 'closed', 'log', 'forget'], 'closed'],
  ['closed', 'the socket closing again', { type: 'socket-closed', code: 1000 }, [], 'closed'],
]

describe('phase rules', () => {
  it.each(PhaseRules)('%s, %s', (phase, _what, input, effects, after) => {
    const { state } = run(Reach[phase])
    expect(state.phase).toBe(phase)
    const next = step(state, input, rules)
    expect(types(next.effects)).toEqual(effects)
    expect(next.state.phase).toBe(after)
  })
})

// A store answer that arrives after the connection closed, for each answer it may wait for.
const LateAnswers: readonly (readonly [string, readonly ConnectionInput[], ConnectionInput, ConnectionRules])[] = [
  ['token', [identify()], token(), rules],
  ['admission', [identify(), token()], { type: 'admission', refusal: undefined }, relayRules],
  ['hold', [identify(), token()], { type: 'admission-held', hold: { holdMs: 5_000, refusal: { code: 'c', detail: 'd', closeCode: 4000, reason: 'r' } } }, relayRules],
  ['held admission', [identify(), token(), { type: 'admission-held', hold: { holdMs: 5_000, refusal: { code: 'c', detail: 'd', closeCode: 4000, reason: 'r' } } }], { type: 'admission', refusal: undefined }, relayRules],
  ['count', [identify(), token()], counted(2), rules],
  ['join', [identify(), token(), counted(2)], joined, rules],
  ['history', [identify({ send_all: true }), token(), counted(2), joined], { type: 'history', events: [] }, rules],
  ['a later message\'s count', [...toReady, message('{}')], counted(3), rules],
]

describe('an identify nested past Go\'s limit', () => {
  const closeOf = (effects: readonly ConnectionEffect[]) => effects.find((e) => e.type === 'close')

  it('20,000 × "[" is refused with invalid_payload and 4004, never thrown', () => {
    const { state } = open(rules)
    let effects: readonly ConnectionEffect[] = []
    expect(() => {
      effects = step(state, { type: 'message', data: '['.repeat(20_000) }, rules).effects
    }).not.toThrow()
    expect(closeOf(effects)).toMatchObject({
      code: 4004,
      control: { code: 'invalid_payload', detail: "invalid character '[' exceeded max depth" },
    })
  })
})

describe('a fault (an input the interpreter could not step)', () => {
  it('closes the connection with 4500 and logs the kind, in any phase still open; nothing once closing', () => {
    for (const phase of ['waiting', 'identifying', 'ready'] as const) {
      const { effects } = run([...Reach[phase], { type: 'fault', error: 'RangeError' }])
      const faulted = effects.slice(run(Reach[phase]).effects.length)
      expect(faulted).toContainEqual({ type: 'log', level: 'error', line: 'internal error, the connection is closed: RangeError' })
      expect(faulted.find((e) => e.type === 'close')).toMatchObject({ code: 4500 })
    }
    for (const phase of ['closing', 'closed'] as const) {
      expect(run([...Reach[phase], { type: 'fault', error: 'RangeError' }]).effects.slice(run(Reach[phase]).effects.length)).toEqual([])
    }
  })

  it('at the socket\'s close lets go of the connection as the close would have: timers, channels, the server\'s count', () => {
    const closed = run([...toReady, { type: 'socket-closed', code: 1006 }])
    const faulted = run([...toReady, { type: 'fault', error: 'TypeError', closed: 1006 }])
    expect(faulted.state).toEqual(closed.state)
    expect(faulted.effects.filter((e) => e.type !== 'log')).toEqual(closed.effects.filter((e) => e.type !== 'log'))
    expect(faulted.effects).toContainEqual({ type: 'log', level: 'error', line: 'internal error at the close: TypeError' })
  })
})

describe('answers after a close', () => {
  it.each(LateAnswers)('a %s answer after the shutdown changes nothing', (_what, before, answer, r) => {
    const { state } = run([...before, { type: 'shutdown', code: 1001 }], r)
    expect(state.phase).toBe('closing')
    expect(state.awaiting).not.toBeUndefined()
    expect(step(state, answer, r)).toEqual({ state, effects: [] })
  })

  it('a message after a store failure is not counted', () => {
    const { state } = run([...toReady, { type: 'store-failed', error: 'x' }])
    expect(step(state, message('{}'), rules).effects).toEqual([])
  })
})

describe('the handshake', () => {
  it('asks for the token, counts the identify on the per-id counter, joins, then is ready', () => {
    const { state, effects } = run(toReady)
    expect(effects).toEqual([
      alive,
      { type: 'cancel', timer: 'identify' },
      { type: 'lookup-token', kind: 'bot', id: '42' },
      { type: 'count', key: 'wsrl-42-bot', cost: 2, windowMs: 420_000 },
      { type: 'join', channels: ['bot-42', 'global'] },
      { type: 'log', level: 'info', line: 'identified as bot 42, 18 requests remaining' },
      { type: 'identified', outcome: 'ready' },
      { type: 'send-control', code: 'ready', detail: 'Waiting for messages with 2 already made', remaining: 18 },
      { type: 'release', skip: new Set() },
    ])
    expect(state).toMatchObject({ phase: 'ready', awaiting: undefined, joined: ['bot-42', 'global'], holding: false, remaining: 18, viewing: false })
  })

  it('with positions, reads the heads for an identify with after, replays exactly after it, and says so after ready', () => {
    const positioned: ConnectionRules = { ...rules, positions: true }
    const after = { 'bot-42': 'e:1', global: 'old:3' }
    const steps = run([identify({ send_all: true, after }), token(), counted(2), joined], positioned)
    expect(steps.effects.at(-1)).toMatchObject({ type: 'read-history', heads: true, channels: ['bot-42', 'global'] })
    const history: ConnectionInput = {
      type: 'history',
      events: [
        ['bot-42', { a: { m: { eid: 'a', ts: 9, pos: 'e:1' } }, b: { m: { eid: 'b', ts: 2, pos: 'e:2' } }, c: { m: { eid: 'c', ts: 1, pos: 'e:3' } } }],
        ['global', { g: { m: { eid: 'g', ts: 0, pos: 'e:1' } } }],
      ],
      heads: [{ epoch: 'e', offset: 3 }, { epoch: 'e', offset: 1 }],
    }
    const ready = step(steps.state, history, positioned)
    expect(ready.effects.slice(2, 6)).toEqual([
      { type: 'send-control', code: 'ready', detail: 'Waiting for messages with 2 already made', remaining: 18 },
      {
        type: 'send-control',
        code: 'resume',
        detail: 'bot-42: exact global: The position is from an earlier life of the server’s store.',
        remaining: 18,
        channels: { 'bot-42': 'exact', global: 'epoch' },
      },
      { type: 'resumed', outcomes: ['exact', 'epoch'] },
      {
        type: 'send-events',
        events: [encodeEvent('bot-42', { m: { eid: 'b', ts: 2, pos: 'e:2' } }), encodeEvent('bot-42', { m: { eid: 'c', ts: 1, pos: 'e:3' } }), encodeEvent('global', { m: { eid: 'g', ts: 0, pos: 'e:1' } })],
      },
    ])
    // Without positions, after is ignored: no heads, no resume payload.
    const plain = run([identify({ send_all: true, after }), token(), counted(2), joined])
    expect(plain.effects.at(-1)).toMatchObject({ type: 'read-history', heads: false })
  })

  it('holds live events from the join until ready, then releases them after the replay, skipping replayed eids', () => {
    const request = { kind: 'server', id: '7', token: 'secret', sendAll: true, sendNone: false }
    const steps = run([identify({ id: '7', bot: false, send_all: true }), token(), counted(4)])
    expect(steps.state).toMatchObject({ awaiting: 'join', holding: true, joined: ['server-7', 'global'] })
    const held = step(steps.state, live('h'), rules)
    expect(held.effects).toEqual([{ type: 'hold', eid: 'h', event: expect.anything() }])
    const reading = step(held.state, joined, rules)
    expect(reading.effects).toEqual([{ type: 'read-history', request, heads: false, channels: ['server-7', 'global'] }])
    expect(reading.state.awaiting).toBe('history')
    const history: ConnectionInput = {
      type: 'history',
      events: [
        ['server-7', { late: { m: { ts: 5, eid: 'late' } }, early: { m: { ts: 1, eid: 'early' } }, none: { m: {} } }],
        ['global', { g: { m: { ts: 0, eid: 'g' } } }],
      ],
    }
    const ready = step(reading.state, history, rules)
    expect(ready.state).toMatchObject({ phase: 'ready', holding: false, awaiting: undefined })
    expect(ready.effects).toEqual([
      { type: 'log', level: 'info', line: 'identified as server 7 (send_all), 16 requests remaining' },
      { type: 'identified', outcome: 'ready' },
      { type: 'send-control', code: 'ready', detail: 'Waiting for messages with 4 already made', remaining: 16 },
      {
        type: 'send-events',
        events: [
          encodeEvent('server-7', { m: {} }),
          encodeEvent('server-7', { m: { ts: 1, eid: 'early' } }),
          encodeEvent('server-7', { m: { ts: 5, eid: 'late' } }),
          encodeEvent('global', { m: { ts: 0, eid: 'g' } }),
        ],
      },
      { type: 'arm', timer: 'done-prior', ms: 1_000 },
      { type: 'release', skip: new Set(['none', 'early', 'late', 'g']) },
    ])
    expect(step(ready.state, timer('done-prior'), rules).effects).toEqual([
      { type: 'send-control', code: 'done_prior', detail: ControlDetail.donePrior, remaining: 16 },
    ])
  })

  it('arms done_prior after an empty replay without sending an empty batch', () => {
    const { effects } = run([identify({ send_all: true }), token(), counted(2), joined, { type: 'history', events: [['bot-42', {}], ['global', {}]] }])
    expect(types(effects).slice(-3)).toEqual(['send-control', 'arm done-prior', 'release'])
  })

  it('joins nothing with send_none, and says so in the log', () => {
    const { state, effects } = run([identify({ send_none: true }), token(), counted(2), joined])
    expect(effects).toContainEqual({ type: 'join', channels: [] })
    expect(effects).toContainEqual({ type: 'log', level: 'info', line: 'identified as bot 42 (send_none), 18 requests remaining' })
    expect(state.joined).toEqual([])
    expect(types(step(state, { type: 'socket-closed', code: 1000 }, rules).effects)).not.toContain('leave')
  })

  it('rejects a malformed identify with invalid_payload and 4004, before any lookup', () => {
    const { state, effects } = run([message('{"id": 5}')])
    expect(effects).toEqual([
      alive,
      { type: 'cancel', timer: 'identify' },
      { type: 'identified', outcome: 'invalid_payload' },
      { type: 'log', level: 'info', line: 'rejected: invalid_payload → 4004' },
      {
        type: 'close',
        code: 4004,
        reason: 'Invalid authentication, try again',
        control: { code: 'invalid_payload', detail: 'json: cannot unmarshal number into Go struct field WebsocketIdentifyPayload.id of type string', remaining: -1 },
      },
    ])
    expect(state.phase).toBe('closing')
  })

  it.each([
    ['a wrong token', 'wrong'],
    ['no such identity', undefined],
  ] as const)('rejects %s with invalid_auth and 4004', (_what, given) => {
    const { state, effects } = run([identify(), token(given)])
    expect(effects.slice(3)).toEqual([
      { type: 'identified', outcome: 'invalid_auth' },
      { type: 'log', level: 'info', line: 'rejected: invalid_auth → 4004' },
      { type: 'close', code: 4004, reason: 'Invalid authentication, try again', control: { code: 'invalid_auth', detail: 'no rows in result set', remaining: -1 } },
    ])
    expect(state).toMatchObject({ phase: 'closing', awaiting: undefined })
  })

  it.each([
    [20, 'ready'],
    [21, 'closing'],
  ] as const)('allows an identify that brings the counter to %i only up to the limit (%s)', (value, phase) => {
    const { state, effects } = run([identify(), token(), counted(value)])
    expect(state.phase).toBe(phase === 'ready' ? 'identifying' : 'closing')
    expect(state.remaining).toBe(20 - value)
    if (phase === 'closing') {
      expect(effects.slice(4)).toEqual([
        { type: 'identified', outcome: 'ratelimited' },
        { type: 'log', level: 'info', line: 'rejected: ratelimited → 4012' },
        { type: 'close', code: 4012, reason: 'Ratelimited', control: { code: 'ratelimited', detail: 'Past max requests that can be sent (21)', remaining: -1 } },
      ])
    }
  })
})

describe('later messages', () => {
  it('counts each on the per-id counter in turn, and rejects the one past the limit without an identified outcome', () => {
    let { state } = run(toReady)
    const first = step(state, message('{}'), rules)
    expect(first.effects).toEqual([alive, { type: 'count', key: 'wsrl-42-bot', cost: 1, windowMs: 420_000 }])
    // A second message while the first is counted waits its turn.
    const second = step(first.state, message('{}'), rules)
    expect(second.effects).toEqual([alive])
    expect(second.state.backlog).toBe(1)
    const firstCounted = step(second.state, counted(3), rules)
    expect(firstCounted.effects).toEqual([{ type: 'count', key: 'wsrl-42-bot', cost: 1, windowMs: 420_000 }])
    expect(firstCounted.state).toMatchObject({ backlog: 0, remaining: 17, awaiting: 'count' })
    const over = step(firstCounted.state, counted(21), rules)
    expect(over.effects).toEqual([
      { type: 'log', level: 'info', line: 'rejected: ratelimited → 4012' },
      { type: 'close', code: 4012, reason: 'Ratelimited', control: { code: 'ratelimited', detail: 'Past max requests that can be sent (21)', remaining: -1 } },
    ])
    state = step(firstCounted.state, counted(4), rules).state
    expect(state).toMatchObject({ phase: 'ready', awaiting: undefined, remaining: 16 })
  })

  it('counts messages that came with the identify after ready, in order', () => {
    const { state, effects } = run([identify(), message('{}'), message('{}'), token(), counted(2), joined])
    expect(state.backlog).toBe(1)
    expect(types(effects)).toEqual(['arm dead', 'cancel identify', 'lookup-token', 'arm dead', 'arm dead', 'count', 'join', 'log', 'identified', 'send-control', 'release', 'count'])
    expect(effects.at(-1)).toEqual({ type: 'count', key: 'wsrl-42-bot', cost: 1, windowMs: 420_000 })
    const next = step(state, counted(3), rules)
    expect(next.effects).toEqual([{ type: 'count', key: 'wsrl-42-bot', cost: 1, windowMs: 420_000 }])
    expect(step(next.state, counted(4), rules).state).toMatchObject({ backlog: 0, awaiting: undefined, remaining: 16 })
  })
})

describe('relay mode', () => {
  it('asks the viewer gate, counts on the connection’s own counter, and tells the gate who joined and left', () => {
    const { state, effects } = run(toRelayReady, relayRules)
    expect(effects).toEqual([
      alive,
      { type: 'cancel', timer: 'identify' },
      { type: 'lookup-token', kind: 'bot', id: '42' },
      { type: 'admit', kind: 'bot', id: '42' },
      { type: 'join', channels: ['bot-42', 'global'] },
      { type: 'log', level: 'info', line: 'identified as bot 42, 18 requests remaining' },
      { type: 'identified', outcome: 'ready' },
      { type: 'send-control', code: 'ready', detail: 'Waiting for messages with 2 already made', remaining: 18 },
      { type: 'release', skip: new Set() },
      { type: 'viewer', joined: true, kind: 'bot', id: '42' },
    ])
    expect(state).toMatchObject({ requests: 2, viewing: true, remaining: 18 })
    const message1 = step(state, message('{}'), relayRules)
    expect(message1.effects).toEqual([alive])
    expect(message1.state).toMatchObject({ requests: 3, remaining: 17, awaiting: undefined })
    const told = step(message1.state, { type: 'tell', code: 'upstream_live', detail: 'd' }, relayRules)
    expect(told.effects).toEqual([{ type: 'send-control', code: 'upstream_live', detail: 'd', remaining: 17 }])
    const closed = step(message1.state, { type: 'socket-closed', code: 1001 }, relayRules)
    expect(closed.effects.slice(ConnectionTimers.length)).toEqual([
      { type: 'discard' },
      { type: 'leave', channels: ['bot-42', 'global'] },
      { type: 'viewer', joined: false, kind: 'bot', id: '42' },
      { type: 'closed', code: 1001 },
      { type: 'log', level: 'info', line: 'closed 1001' },
      { type: 'forget' },
    ])
    expect(closed.state).toMatchObject({ phase: 'closed', joined: [], viewing: false })
  })

  it('closes a viewer past its own limit with 4012', () => {
    let { state } = run(toRelayReady, { ...relayRules, rateLimit: 3 })
    state = step(state, message('{}'), { ...relayRules, rateLimit: 3 }).state
    const over = step(state, message('{}'), { ...relayRules, rateLimit: 3 })
    expect(over.effects).toEqual([
      alive,
      { type: 'log', level: 'info', line: 'rejected: ratelimited → 4012' },
      { type: 'close', code: 4012, reason: 'Ratelimited', control: { code: 'ratelimited', detail: 'Past max requests that can be sent (4)', remaining: -1 } },
    ])
  })

  it('refuses a viewer the gate turns away, with the gate’s words and close', () => {
    const refusal = { code: 'upstream_failed', detail: 'gone', closeCode: 4503, reason: 'Upstream failed' }
    const { state, effects } = run([identify(), token(), { type: 'admission', refusal }], relayRules)
    expect(effects.slice(4)).toEqual([
      { type: 'identified', outcome: 'upstream_failed' },
      { type: 'log', level: 'info', line: 'refused: upstream_failed → 4503' },
      { type: 'close', code: 4503, reason: 'Upstream failed', control: { code: 'upstream_failed', detail: 'gone', remaining: -1 } },
    ])
    expect(state).toMatchObject({ phase: 'closing', viewing: false, awaiting: undefined })
  })

  it('counts an identify refused while identifying with the refusal’s code', () => {
    const { effects } = run([identify(), token(), { type: 'refuse', refusal: { code: 'upstream_failed', detail: 'd', closeCode: 4503, reason: 'r' } }], relayRules)
    expect(types(effects.slice(4))).toEqual(['identified', 'log', 'close'])
    expect(effects[4]).toEqual({ type: 'identified', outcome: 'upstream_failed' })
  })

  it('closes a connection refused while identifying with the refusal’s own reason', () => {
    const { effects } = run([identify(), { type: 'refuse', refusal: { code: 'c', detail: 'd', closeCode: 4503, reason: 'why' } }], relayRules)
    expect(effects.at(-1)).toEqual({ type: 'close', code: 4503, reason: 'why', control: { code: 'c', detail: 'd', remaining: -1 } })
  })
})

describe('closing', () => {
  it.each([
    [{ type: 'interrupt' }, 4500, 'Internal Server Error, try reconnecting?'],
    [{ type: 'shutdown', code: 1001 }, 1001, ''],
    [{ type: 'shutdown', code: 4503 }, 4503, 'Upstream unavailable, try again later'],
    [{ type: 'shutdown', code: 3999 }, 3999, ''],
  ] as const)('%j closes with %i and the reason "%s"', (input, code, reason) => {
    const { effects } = run([...toReady, input])
    expect(effects.at(-1)).toEqual({ type: 'close', code, reason })
  })

  it('drops held events and stops holding when it closes mid-handshake', () => {
    const { state } = run([identify(), token(), counted(2), { type: 'shutdown', code: 1001 }])
    expect(state).toMatchObject({ phase: 'closing', holding: false })
    expect(step(state, live('x'), rules).effects).toEqual([])
    // The answer to the join it was waiting for changes nothing now.
    expect(step(state, joined, rules).effects).toEqual([])
  })

  it('logs a store failure as an error, counts it, and closes with 4500', () => {
    const { state, effects } = run([identify(), { type: 'store-failed', error: 'connection lost' }])
    expect(effects.slice(3)).toEqual([
      { type: 'log', level: 'error', line: 'store failed: connection lost' },
      { type: 'store-failed' },
      { type: 'close', code: 4500, reason: 'Internal Server Error, try reconnecting?' },
    ])
    expect(state.awaiting).toBeUndefined()
  })

  it('closes a slow reader over its byte limit with 1008 and drops it after the linger', () => {
    const { state, effects } = run([...toReady, { type: 'overflow', overflow: { type: 'bytes', limit: 1234 } }])
    expect(effects.slice(-3)).toEqual([
      { type: 'log', level: 'info', line: 'cannot keep up (over 1234 bytes queued): closed with 1008' },
      { type: 'close', code: 1008, reason: 'Send queue over 1234 bytes: reading too slowly' },
      { type: 'arm', timer: 'linger', ms: SlowReaderLingerMs },
    ])
    expect(step(state, timer('linger'), rules).effects).toEqual([{ type: 'terminate' }])
  })

  it('closes a reader over its event limit with 4500 and drops it after the linger', () => {
    const { state, effects } = run([...toReady, { type: 'overflow', overflow: { type: 'events', limit: 50 } }])
    expect(effects.slice(-3)).toEqual([
      { type: 'log', level: 'info', line: 'cannot keep up (over 50 events queued)' },
      { type: 'close', code: 4500, reason: 'Internal Server Error, try reconnecting?' },
      { type: 'arm', timer: 'linger', ms: SlowReaderLingerMs },
    ])
    expect(step(state, timer('linger'), rules).effects).toEqual([{ type: 'terminate' }])
  })
})

describe('timers (virtual time: each timer is an input)', () => {
  it('closes with 4000 when no identify came, pings and re-arms, drops a silent peer', () => {
    const { effects: timeout } = run([timer('identify')])
    expect(timeout).toEqual([
      { type: 'log', level: 'info', line: 'did not identify within 30000 ms' },
      { type: 'close', code: 4000, reason: 'Invalid connection, try again' },
    ])
    expect(run([timer('ping')]).effects).toEqual([{ type: 'ping' }, { type: 'arm', timer: 'ping', ms: 54_000 }])
    expect(run([timer('dead')]).effects).toEqual([
      { type: 'log', level: 'info', line: 'silent for 60000 ms: dropped' },
      { type: 'close', code: 4000, reason: 'Invalid connection, try again' },
      { type: 'arm', timer: 'linger', ms: 1_000 },
    ])
    expect(run([{ type: 'pong' }]).effects).toEqual([alive])
  })
})

describe('relay mode: a held admission', () => {
  const turnAway = { code: 'upstream_connecting', detail: 'catching up', closeCode: 4000, reason: 'Invalid connection, try again' }
  const hold: ConnectionInput = { type: 'admission-held', hold: { holdMs: 5_000, refusal: turnAway } }
  const admitted: ConnectionInput = { type: 'admission', refusal: undefined }
  const toHeld: readonly ConnectionInput[] = [identify(), token(), hold]
  const gone = (turnedAway: boolean): ConnectionEffect => ({ type: 'unheld', kind: 'bot', id: '42', turnedAway })

  it('leaves the identify unanswered, arms the hold\'s bound and tells the gate it waits', () => {
    const { state, effects } = run(toHeld, relayRules)
    expect(effects.slice(3)).toEqual([
      { type: 'admit', kind: 'bot', id: '42' },
      { type: 'log', level: 'info', line: 'admission held (5000 ms at most)' },
      { type: 'arm', timer: 'admission', ms: 5_000 },
      { type: 'held', kind: 'bot', id: '42' },
    ])
    expect(state).toMatchObject({ phase: 'identifying', awaiting: 'admission', held: { holdMs: 5_000, refusal: turnAway }, viewing: false })
  })

  it('let in, stops the bound and identifies as an admitted viewer does: ready, then the gate hears it joined', () => {
    const { state, effects } = run([...toHeld, admitted], relayRules)
    expect(types(effects.slice(7))).toEqual(['cancel admission', 'join'])
    // Counted as held until it joined: a close now must still tell the gate.
    expect(state).toMatchObject({ awaiting: 'join', held: { holdMs: 5_000 } })
    const ready = step(state, joined, relayRules)
    expect(types(ready.effects)).toEqual(['log', 'identified', 'send-control', 'release', 'viewer'])
    expect(ready.effects[2]).toMatchObject({ type: 'send-control', code: 'ready', remaining: 18 })
    expect(ready.state).toMatchObject({ phase: 'ready', viewing: true, held: undefined })
    const closed = step(ready.state, { type: 'socket-closed', code: 1000 }, relayRules)
    expect(closed.effects).toContainEqual({ type: 'viewer', joined: false, kind: 'bot', id: '42' })
    expect(types(closed.effects)).not.toContain('unheld')
  })

  it('past its bound, turns the viewer away with the hold\'s refusal, and tells the gate it went (turned away)', () => {
    const { state, effects } = run([...toHeld, timer('admission')], relayRules)
    expect(effects.slice(7)).toEqual([
      gone(true),
      { type: 'identified', outcome: 'upstream_connecting' },
      { type: 'log', level: 'info', line: 'refused: upstream_connecting → 4000' },
      { type: 'close', code: 4000, reason: 'Invalid connection, try again', control: { code: 'upstream_connecting', detail: 'catching up', remaining: -1 } },
    ])
    expect(state).toMatchObject({ phase: 'closing', held: undefined, awaiting: undefined })
    // The gate heard it once: the socket's close adds nothing, and a late answer changes nothing.
    expect(types(step(state, { type: 'socket-closed', code: 4000 }, relayRules).effects)).not.toContain('unheld')
    expect(step(state, admitted, relayRules).effects).toEqual([])
  })

  it.each<[string, readonly ConnectionInput[]]>([
    ['while it waits', toHeld],
    ['let in, before it joined', [...toHeld, admitted]],
  ])('closed by the viewer %s: every timer stops, and the gate lets go of it', (_what, inputs) => {
    const { state } = run(inputs, relayRules)
    const closed = step(state, { type: 'socket-closed', code: 1001 }, relayRules)
    expect(types(closed.effects)).toEqual([...ConnectionTimers.map((t) => `cancel ${t}`), 'discard', ...(state.joined.length > 0 ? ['leave'] : []), 'unheld', 'closed', 'log', 'forget'])
    expect(closed.effects).toContainEqual(gone(false))
    expect(ConnectionTimers).toContain('admission')
    expect(closed.state).toMatchObject({ phase: 'closed', held: undefined, viewing: false })
  })

  it('refused by the gate while it waits (its upstream failed): closed with the refusal, the gate not told again', () => {
    const refusal = { code: 'upstream_failed', detail: 'gone', closeCode: 4503, reason: 'Upstream unavailable, try again later' }
    const { state, effects } = run([...toHeld, { type: 'refuse', refusal }], relayRules)
    expect(effects.slice(7)).toEqual([
      { type: 'identified', outcome: 'upstream_failed' },
      { type: 'log', level: 'info', line: 'refused: upstream_failed → 4503' },
      { type: 'close', code: 4503, reason: 'Upstream unavailable, try again later', control: { code: 'upstream_failed', detail: 'gone', remaining: -1 } },
    ])
    expect(state.held).toBeUndefined()
    expect(types(step(state, { type: 'socket-closed', code: 4503 }, relayRules).effects)).not.toContain('unheld')
    // The same through a late admission answer: its bound stops too.
    const answered = run([...toHeld, { type: 'admission', refusal }], relayRules)
    expect(types(answered.effects.slice(7))).toEqual(['cancel admission', 'identified', 'log', 'close'])
    expect(answered.state.held).toBeUndefined()
  })

  it.each<[string, readonly ConnectionInput[], ConnectionInput]>([
    ['a hold for a ready viewer', toRelayReady, hold],
    ['a second hold', toHeld, hold],
    ['a hold before the token checked out', [identify()], hold],
    ['the bound of an admission not held', [identify(), token()], timer('admission')],
    ['the bound after it was let in', [...toHeld, admitted], timer('admission')],
    ['the bound of a ready viewer', toRelayReady, timer('admission')],
  ])('%s changes nothing', (_what, before, input) => {
    const { state } = run(before, relayRules)
    expect(step(state, input, relayRules)).toEqual({ state, effects: [] })
  })

  it('counts messages sent while held only after ready, in order', () => {
    const { state, effects } = run([...toHeld, message('{}'), admitted, joined], relayRules)
    expect(state).toMatchObject({ phase: 'ready', backlog: 0, requests: 3, remaining: 17 })
    expect(types(effects).indexOf('send-control', 1)).toBeGreaterThan(types(effects).indexOf('cancel admission'))
  })
})
