import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { IdleTarget, step, type TargetEffect, type TargetInput, type TargetState } from './machine.js'

const config = { graceMs: 30_000 }
const joined: TargetInput = { type: 'viewer-joined' }
const left: TargetInput = { type: 'viewer-left' }
const expired: TargetInput = { type: 'grace-expired' }
const upstream = (status: 'connecting' | 'live' | 'failed', detail = `${status} words`): TargetInput => ({
  type: 'upstream',
  status,
  detail,
  log: `${status} log`,
})

/** Runs inputs from `state`; returns the last state and every effect but log lines. */
function run(inputs: readonly TargetInput[], state: TargetState = IdleTarget, graceMs = config.graceMs) {
  const effects: TargetEffect[] = []
  for (const input of inputs) {
    const result = step(state, input, { graceMs })
    state = result.state
    effects.push(...result.effects.filter((e) => e.type !== 'log'))
  }
  return { state, effects }
}

const kinds = (effects: readonly TargetEffect[]): string[] =>
  effects.map((e) => (e.type === 'tell' ? `tell ${e.to} ${e.code}` : e.type === 'refuse' ? `refuse ${e.to}` : e.type))

describe('the relay target machine', () => {
  it.each<[string, TargetInput[], string[], Partial<TargetState>]>([
    ['the first viewer opens the upstream and hears it is connecting', [joined], ['open-upstream', 'tell joined upstream_connecting'], { viewers: 1, upstream: 'connecting' }],
    ['live: viewers are told once', [joined, upstream('live')], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live'], { upstream: 'live' }],
    ['a second viewer of a live upstream costs nothing', [joined, upstream('live'), joined], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live'], { viewers: 2 }],
    ['the last viewer leaving arms the grace timer, not a close', [joined, upstream('live'), left], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace'], { viewers: 0, upstream: 'live', grace: true }],
    ['a viewer back within the grace period cancels it', [joined, upstream('live'), left, joined], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'cancel-grace'], { viewers: 1, grace: false }],
    ['the grace period running out closes the upstream', [joined, upstream('live'), left, expired], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'close-upstream'], { upstream: 'idle' }],
    ['a stale grace timer changes nothing', [joined, upstream('live'), expired], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live'], { upstream: 'live' }],
    ['a drop tells every viewer, the recovery too', [joined, upstream('live'), upstream('connecting'), upstream('connecting'), upstream('live')], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'tell all upstream_connecting', 'tell all upstream_live'], { upstream: 'live' }],
    ['a viewer joining while reconnecting hears the newest words', [joined, upstream('live'), upstream('connecting', 'a'), upstream('connecting', 'b'), joined], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'tell all upstream_connecting', 'tell joined upstream_connecting'], { detail: 'b' }],
    ['failed: every viewer refused, the upstream closed', [joined, upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'close-upstream', 'refuse all'], { upstream: 'failed' }],
    ['failed: a later viewer is refused, nothing reopens', [joined, upstream('failed'), left, joined], ['open-upstream', 'tell joined upstream_connecting', 'close-upstream', 'refuse all', 'refuse joined'], { upstream: 'failed' }],
    ['failed during the grace period: the timer stops', [joined, upstream('live'), left, upstream('failed'), expired], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'cancel-grace', 'close-upstream', 'refuse all'], { upstream: 'failed', grace: false }],
    ['statuses after the relay closed the upstream change nothing', [joined, left, expired, upstream('live'), upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'arm-grace', 'close-upstream'], { upstream: 'idle' }],
  ])('%s', (_, inputs, effects, state) => {
    const result = run(inputs)
    expect(kinds(result.effects)).toEqual(effects)
    expect(result.state).toMatchObject(state)
  })

  it('with no grace period closes the upstream as the last viewer leaves', () => {
    expect(kinds(run([joined, upstream('live'), left], IdleTarget, 0).effects)).toEqual([
      'open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'close-upstream',
    ])
  })

  it('tells viewers the words it was given, and the codes of the shared table', () => {
    const { effects } = run([joined, upstream('live'), upstream('connecting', 'reconnects in 2 s')])
    expect(effects.at(-1)).toEqual({ type: 'tell', to: 'all', code: RelayControlCode.UpstreamConnecting, detail: 'reconnects in 2 s' })
    expect(run([joined, upstream('failed', 'refused')]).effects.at(-1)).toEqual({ type: 'refuse', to: 'all', detail: 'refused' })
  })

  // The properties the relay's promises rest on, over random histories: the upstream is open
  // exactly while it should be, it is opened at most once per period with viewers, and never
  // again once it failed, whatever viewers do.
  it('opens at most once per period with viewers, never after failing, and is open whenever a viewer waits', () => {
    const input = fc.oneof(
      fc.constant(joined),
      fc.constant(left),
      fc.constant(expired),
      fc.constantFrom<'connecting' | 'live' | 'failed'>('connecting', 'live', 'failed').map((s) => upstream(s)),
    )
    fc.assert(
      fc.property(fc.array(input, { maxLength: 60 }), fc.constantFrom(0, 1000), (inputs, graceMs) => {
        let state = IdleTarget
        let open = false
        let grace = false
        let failed = false
        let viewers = 0
        for (const input of inputs) {
          // Model the edge: a viewer only leaves after joining; a grace timer only fires when armed.
          if (input.type === 'viewer-left' && viewers === 0) continue
          if (input.type === 'grace-expired' && !grace) continue
          if (input.type === 'viewer-joined') viewers++
          if (input.type === 'viewer-left') viewers--
          const result = step(state, input, { graceMs })
          for (const effect of result.effects) {
            if (effect.type === 'open-upstream') {
              expect(open).toBe(false)
              expect(failed).toBe(false)
              open = true
            }
            if (effect.type === 'close-upstream') open = false
            if (effect.type === 'arm-grace') grace = true
            if (effect.type === 'cancel-grace') grace = false
            if (effect.type === 'refuse') expect(result.state.upstream).toBe('failed')
          }
          if (input.type === 'grace-expired') grace = false
          state = result.state
          if (state.upstream === 'failed') failed = true
          expect(state.viewers).toBe(viewers)
          expect(open).toBe(state.upstream === 'connecting' || state.upstream === 'live')
          if (viewers > 0 && !failed) expect(open).toBe(true)
          if (viewers === 0 && open) expect(grace).toBe(true)
          expect(state.grace).toBe(grace)
        }
      }),
      { numRuns: 500 },
    )
  })
})
