import { describe, expect, it } from 'vitest'
import { initialState, type MachineState, step } from './machine.js'
import { resolveOptions } from '../options.js'
import type { Decoded } from '../../operators/diagnostic.js'

// Issue 19: a move the transition table forbids was a throw from inside the pure step, which
// tore down the interpreter between effects. It is now a state (`failed`) and a diagnostic.
// No input reaches one from a state the machine made (the property tests hold that), so this
// builds a state that no step would: `closed` with a socket opening.
/** `closed` (the initial status) with a connection in `phase`: a state no step makes. */
function closedWith(phase: 'opening' | 'awaiting-ready'): MachineState {
  return {
    ...initialState(0),
    subscribed: true,
    connection: {
      socket: 7,
      phase,
      startedAt: 0,
      url: 'ws://127.0.0.1:9/ws',
      id: '42',
      token: 'illegal-secret',
      openedAt: 0,
      errorDetail: undefined,
      held: undefined,
      heldCount: 0,
      priorUntilDone: false,
      resumeFrom: undefined,
      replayMark: undefined,
      reachedMark: false,
      exact: undefined,
    },
  } as MachineState
}

describe('the connection machine, given a state no step would make', () => {
  const config = resolveOptions({ url: 'ws://127.0.0.1:9/ws', id: '42', token: 'illegal-secret' })
  const base = initialState(0)
  const broken = closedWith('opening')

  it('does not throw on a forbidden move: it fails, closes the socket and says why on diagnostic$', () => {
    expect(base.status.state).toBe('closed')
    const result = step(broken, { type: 'opened', at: 5, socket: 7 }, config)
    expect(result.state.status.state).toBe('failed')
    expect(result.state.connection).toBeUndefined()
    expect(result.effects).toContainEqual({ type: 'close-socket', socket: 7 })
    expect(result.effects).toContainEqual({
      type: 'diagnostic',
      diagnostic: { kind: 'internal-error', message: expect.stringContaining('closed → identifying') as unknown, raw: '' },
    })
    expect(result.effects.filter((effect) => effect.type === 'status').map((effect) => (effect.type === 'status' ? effect.status.state : ''))).toEqual(['failed'])
    expect(JSON.stringify(result.effects.filter((effect) => effect.type !== 'close-socket'))).not.toContain('illegal-secret')
  })
  it('ignores the payloads of the frame after a forbidden move: they belong to no connection', () => {
    // `closed` with a connection awaiting ready: its `ready` is a move the table forbids, and
    // the event after it in the same frame must not be delivered.
    const ready: Decoded = { type: 'control', control: { code: 'ready', control: true, ts: 1 } }
    const late: Decoded = { type: 'event', event: { m: { e: 0, eid: 'late', ts: 2 }, ctx: {} } }
    const result = step(closedWith('awaiting-ready'), { type: 'frame', at: 5, socket: 7, payloads: [ready, late] }, config)
    expect(result.state.status.state).toBe('failed')
    expect(result.state.connection).toBeUndefined()
    expect(result.effects.some((effect) => effect.type === 'deliver' || effect.type === 'deliver-live')).toBe(false)
  })
})
