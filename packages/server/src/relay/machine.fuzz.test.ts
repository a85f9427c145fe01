import fc from 'fast-check'
// The relay's machine fed any of its inputs in any order (timers fire only when armed, as the
// interpreter's would), checking after each step: no throw, determinism, the grace and retry
// flags agreeing with their timers, `failed` exactly while a retry is armed. A fuzzing review's
// (2026-12-08); with `at` past what a Date holds it found retryWords' throw.
import { expect, it } from 'vitest'
import { IdleTarget, step, type TargetInput, type TargetState } from './machine.js'

const inputs: fc.Arbitrary<TargetInput> = fc.oneof(
  fc.constantFrom<TargetInput>({ type: 'viewer-joined' }, { type: 'viewer-joined', held: true }, { type: 'viewer-left' }, { type: 'grace-expired' }, { type: 'retry-due' }, { type: 'retry-now' },
    { type: 'viewer-held' }, { type: 'hold-ended', turnedAway: true }, { type: 'hold-ended', turnedAway: false }, { type: 'stored' }, { type: 'store-lost' }, { type: 'stop' }),
  fc.record({ type: fc.constant('upstream' as const), status: fc.constantFrom('connecting' as const, 'live' as const, 'failed' as const), detail: fc.constant('d'), log: fc.constant('l'),
    at: fc.option(fc.constantFrom(0, 1_700_000_000_000, -1, 1e16, Number.NaN), { nil: undefined }), random: fc.option(fc.constantFrom(0, 0.999, -3, 7), { nil: undefined }) }) as fc.Arbitrary<TargetInput>,
)
it('the relay machine survives any input', () => {
  fc.assert(fc.property(fc.array(inputs, { maxLength: 40 }), fc.constantFrom(0, 5000), (list, graceMs) => {
    let state: TargetState = IdleTarget
    let grace = false
    let retry = false
    for (const input of list) {
      if (input.type === 'grace-expired') { if (!grace) continue; grace = false }
      if (input.type === 'retry-due') { if (!retry) continue; retry = false }
      const r = step(state, input, { graceMs })
      expect(JSON.stringify(step(state, input, { graceMs }))).toBe(JSON.stringify(r))
      for (const e of r.effects) {
        if (e.type === 'arm-grace') grace = true
        if (e.type === 'cancel-grace') grace = false
        if (e.type === 'arm-retry') { retry = true; expect(Number.isFinite(e.ms)).toBe(true) }
        if (e.type === 'cancel-retry' || e.type === 'retry-upstream') retry = false
      }
      state = r.state
      expect(state.grace, 'grace <=> timer').toBe(grace)
      expect(state.retryArmed, 'retryArmed <=> timer').toBe(retry)
      expect(state.viewers >= 0 && state.held >= 0).toBe(true)
      if (state.upstream === 'failed') expect(state.retryArmed).toBe(true)
      if (state.retryArmed) expect(state.upstream).toBe('failed')
      if (state.grace) expect(state.upstream === 'connecting' || state.upstream === 'live').toBe(true)
    }
  }), { numRuns: 2_000 })
})
