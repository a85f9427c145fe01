import { describe, expect, it } from 'vitest'
import { initialState, type MachineState, step } from './machine.js'
import { resolveOptions } from '../options.js'

// Issue 19: a move the transition table forbids was a throw from inside the pure step, which
// tore down the interpreter between effects. It is now a state (`failed`) and a diagnostic.
// No input reaches one from a state the machine made (the property tests hold that), so this
// builds a state that no step would: `closed` with a socket opening.
describe('the connection machine, given a state no step would make', () => {
  const config = resolveOptions({ url: 'ws://127.0.0.1:9/ws', id: '42', token: 'illegal-secret' })
  const base = initialState(0)
  const broken: MachineState = {
    ...base,
    subscribed: true,
    connection: {
      socket: 7,
      phase: 'opening',
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
    },
  } as MachineState

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
})
