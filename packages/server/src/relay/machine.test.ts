import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { admission, IdleTarget, retryDelay, RetryDefaults, step, WaitingGraceMs, type TargetEffect, type TargetInput, type TargetState } from './machine.js'

const config = { graceMs: 30_000 }
const joined: TargetInput = { type: 'viewer-joined' }
const left: TargetInput = { type: 'viewer-left' }
const expired: TargetInput = { type: 'grace-expired' }
const due: TargetInput = { type: 'retry-due' }
const now: TargetInput = { type: 'retry-now' }
const stop: TargetInput = { type: 'stop' }
const held: TargetInput = { type: 'viewer-held' }
const heldJoined: TargetInput = { type: 'viewer-joined', held: true }
const heldClosed: TargetInput = { type: 'hold-ended', turnedAway: false }
const turnedAway: TargetInput = { type: 'hold-ended', turnedAway: true }
const stored: TargetInput = { type: 'stored' }
const lost: TargetInput = { type: 'store-lost' }
/** A live upstream whose last viewer left long enough ago for the grace period to close it. */
const closedByGrace = (): TargetInput[] => [joined, upstream('live'), left, expired]
const graceClose = ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'close-upstream']
const upstream = (status: 'connecting' | 'live' | 'failed', detail = `${status} words`): Extract<TargetInput, { type: 'upstream' }> => ({
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
  effects.map((e) => (e.type === 'tell' ? `tell ${e.to} ${e.code}` : e.type === 'refuse' ? `refuse ${e.to}` : e.type === 'arm-retry' ? `arm-retry ${e.ms}` : e.type === 'refill-upstream' ? `refill-upstream${e.reopen ? ' reopen' : ''}` : e.type))

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
    ['failed: every viewer refused, a retry armed', [joined, upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all'], { upstream: 'failed', retryArmed: true }],
    ['failed: a later viewer is refused, nothing reopens', [joined, upstream('failed'), left, joined], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'refuse joined'], { upstream: 'failed' }],
    ['failed during the grace period: the timer stops', [joined, upstream('live'), left, upstream('failed'), expired], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'cancel-grace', 'arm-retry 60000', 'refuse all'], { upstream: 'failed', grace: false }],
    ['the retry timer: an attempt, everyone told', [joined, upstream('failed'), left, due], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'retry-upstream', 'tell all upstream_retrying'], { upstream: 'connecting', retries: 1, retryArmed: false }],
    ['a failed retry doubles the wait', [joined, upstream('failed'), due, upstream('connecting'), upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'retry-upstream', 'tell all upstream_retrying', 'arm-retry 120000', 'refuse all'], { upstream: 'failed', retries: 1 }],
    ['a viewer joining during an attempt hears it is a retry', [joined, upstream('failed'), left, due, upstream('connecting', 'core words'), joined], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'retry-upstream', 'tell all upstream_retrying', 'tell joined upstream_retrying'], { viewers: 1, upstream: 'connecting', detail: expect.stringMatching(/retrying its failed upstream \(attempt 1\)/) as unknown as string }],
    ['a retry that succeeds with no viewer lives for the grace period', [joined, upstream('failed'), left, due, upstream('live'), expired], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'retry-upstream', 'tell all upstream_retrying', 'tell all upstream_live', 'arm-grace', 'close-upstream'], { upstream: 'idle', retries: 0 }],
    ['live again resets the backoff', [joined, upstream('failed'), due, upstream('live'), upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'retry-upstream', 'tell all upstream_retrying', 'tell all upstream_live', 'arm-retry 60000', 'refuse all'], { upstream: 'failed', retries: 0 }],
    ['retry-now: the armed timer stops, the attempt starts', [joined, upstream('failed'), now], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'cancel-retry', 'retry-upstream', 'tell all upstream_retrying'], { upstream: 'connecting', retries: 1 }],
    ['retry-now when nothing failed does nothing', [joined, now, upstream('live'), now], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live'], { upstream: 'live', retries: 0 }],
    ['a stale retry timer does nothing', [joined, upstream('failed'), now, due], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'cancel-retry', 'retry-upstream', 'tell all upstream_retrying'], { upstream: 'connecting', retries: 1 }],
    ['stop while failed: the retry timer stops, the client closes', [joined, upstream('failed'), stop, due], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'cancel-retry', 'close-upstream'], { upstream: 'idle', retryArmed: false }],
    ['stop during the grace period: the grace timer stops', [joined, upstream('live'), left, stop, expired], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'cancel-grace', 'close-upstream'], { upstream: 'idle', grace: false }],
    ['statuses after the relay closed the upstream change nothing', [joined, left, expired, upstream('live'), upstream('failed')], ['open-upstream', 'tell joined upstream_connecting', 'arm-grace', 'close-upstream'], { upstream: 'idle' }],
    ['closed by the grace period: behind, until a reopened upstream stored its replay', closedByGrace(), graceClose, { upstream: 'idle', behind: true }],
    ['a viewer held while behind reopens the upstream, which it holds open (no grace timer)', [...closedByGrace(), held], [...graceClose, 'open-upstream'], { upstream: 'connecting', viewers: 0, held: 1, grace: false, behind: true }],
    ['more held while it reopens: nothing more opens', [...closedByGrace(), held, held], [...graceClose, 'open-upstream'], { upstream: 'connecting', held: 2, behind: true }],
    ['a viewer held in the grace period of a reopened upstream stops the timer', [...closedByGrace(), held, heldClosed, held], [...graceClose, 'open-upstream', 'arm-grace', 'cancel-grace'], { upstream: 'connecting', held: 1, grace: false }],
    ['the reopened upstream live: its replay is to be stored before the held are let in', [...closedByGrace(), held, upstream('live')], [...graceClose, 'open-upstream', 'tell all upstream_live', 'await-stored'], { upstream: 'live', held: 1, grace: false, behind: true }],
    ['stored: caught up, the held are let in, and counted until they join', [...closedByGrace(), held, held, upstream('live'), stored], [...graceClose, 'open-upstream', 'tell all upstream_live', 'await-stored', 'admit-held'], { upstream: 'live', held: 2, viewers: 0, behind: false }],
    ['a held viewer let in joins: it leaves the held for the viewers', [...closedByGrace(), held, upstream('live'), stored, heldJoined], [...graceClose, 'open-upstream', 'tell all upstream_live', 'await-stored', 'admit-held'], { upstream: 'live', held: 0, viewers: 1, grace: false, behind: false }],
    ['stored with nobody held lets no one in; a new viewer is admitted and joins', [...closedByGrace(), held, heldClosed, upstream('live'), stored, joined], [...graceClose, 'open-upstream', 'arm-grace', 'tell all upstream_live', 'await-stored', 'cancel-grace'], { upstream: 'live', viewers: 1, held: 0, behind: false }],
    ['stored after the reopened upstream dropped again: still behind, its next live asks again', [...closedByGrace(), held, upstream('live'), upstream('connecting'), stored, upstream('live')], [...graceClose, 'open-upstream', 'tell all upstream_live', 'await-stored', 'tell all upstream_connecting', 'tell all upstream_live', 'await-stored'], { upstream: 'live', held: 1, behind: true }],
    ['the last held viewer closing before the catch-up leaves the upstream to a grace period (WaitingGraceMs, below)', [...closedByGrace(), held, held, heldClosed, heldClosed], [...graceClose, 'open-upstream', 'arm-grace'], { upstream: 'connecting', held: 0, grace: true }],
    ['the last held viewer turned away: the upstream waits WaitingGraceMs for it to come back', [...closedByGrace(), held, turnedAway], [...graceClose, 'open-upstream', 'arm-grace'], { upstream: 'connecting', held: 0, grace: true }],
    ['one turned away while another is held: the other holds it open', [...closedByGrace(), held, held, turnedAway], [...graceClose, 'open-upstream'], { held: 1, grace: false }],
    ['nobody came back: the grace timer closes the reopened upstream, still behind', [...closedByGrace(), held, turnedAway, expired], [...graceClose, 'open-upstream', 'arm-grace', 'close-upstream'], { upstream: 'idle', held: 0, behind: true }],
    ['a stale grace timer while a viewer is held closes nothing', [...closedByGrace(), held, expired], [...graceClose, 'open-upstream'], { upstream: 'connecting', held: 1 }],
    ['failed while viewers are held: they are refused with the viewers, and let go of', [...closedByGrace(), held, held, upstream('failed')], [...graceClose, 'open-upstream', 'arm-retry 60000', 'refuse all', 'refuse held'], { upstream: 'failed', held: 0 }],
    ['a late viewer-held while failed: refused at once', [joined, upstream('failed'), held], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'refuse held'], { upstream: 'failed', held: 0 }],
    ['a late viewer-held once caught up: let in at once', [joined, upstream('live'), held], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'admit-held'], { upstream: 'live', held: 1, behind: false }],
    ['a late stored changes nothing', [joined, upstream('live'), stored], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live'], { upstream: 'live', behind: false }],
    ['the store lost events while live: a fresh upstream client at once, viewers told, behind', [joined, upstream('live'), lost], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'refill-upstream reopen', 'tell all upstream_connecting'], { upstream: 'connecting', viewers: 1, behind: true }],
    ['the fresh client live: its replay is stored before the target catches up', [joined, upstream('live'), lost, upstream('connecting'), upstream('live'), stored], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'refill-upstream reopen', 'tell all upstream_connecting', 'tell all upstream_live', 'await-stored'], { upstream: 'live', viewers: 1, behind: false }],
    ['the store lost events while reconnecting: a fresh client at once', [joined, upstream('live'), upstream('connecting'), lost], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'tell all upstream_connecting', 'refill-upstream reopen', 'tell all upstream_connecting'], { upstream: 'connecting', behind: true }],
    ['the store lost events in the grace period: closed now, a fresh client at the next opening', [joined, upstream('live'), left, lost], ['open-upstream', 'tell joined upstream_connecting', 'tell all upstream_live', 'arm-grace', 'cancel-grace', 'refill-upstream', 'close-upstream'], { upstream: 'idle', grace: false, behind: true }],
    ['the store lost events after the upstream closed: a fresh client at the next opening', [...closedByGrace(), lost], [...graceClose, 'refill-upstream'], { upstream: 'idle', behind: true }],
    ['the store lost events while the upstream failed: a fresh client at the retry, behind once it is live', [joined, upstream('failed'), lost, due, upstream('live')], ['open-upstream', 'tell joined upstream_connecting', 'arm-retry 60000', 'refuse all', 'refill-upstream', 'retry-upstream', 'tell all upstream_retrying', 'tell all upstream_live', 'await-stored'], { upstream: 'live', behind: true }],
    ['a viewer joining while behind (admitted before the close) reopens as the first viewer does', [...closedByGrace(), joined], [...graceClose, 'open-upstream', 'tell joined upstream_connecting'], { upstream: 'connecting', viewers: 1, behind: true }],
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

  it.each<[string, TargetInput[], ReturnType<typeof admission>]>([
    ['idle, never opened', [], 'admit'],
    ['opening for its first viewer', [joined], 'admit'],
    ['live', [joined, upstream('live')], 'admit'],
    ['reconnecting with its viewers', [joined, upstream('live'), upstream('connecting')], 'admit'],
    ['in its grace period', [joined, upstream('live'), left], 'admit'],
    ['failed', [joined, upstream('failed')], 'refuse'],
    ['closed by the grace period', closedByGrace(), 'hold'],
    ['reopening for a held viewer', [...closedByGrace(), held], 'hold'],
    ['reopened, its replay not yet stored', [...closedByGrace(), held, upstream('live')], 'hold'],
    ['reopened and caught up', [...closedByGrace(), held, upstream('live'), stored], 'admit'],
    ['failed while reopening', [...closedByGrace(), held, upstream('failed')], 'refuse'],
    ['fetching again what the store lost', [joined, upstream('live'), lost], 'hold'],
    ['fetched again and stored', [joined, upstream('live'), lost, upstream('live'), stored], 'admit'],
  ])('admits a viewer by the state: %s → %s', (_, inputs, expected) => {
    expect(admission(run(inputs).state)).toBe(expected)
  })

  it('holds an upstream reopened for a viewer that went before it caught up (turned away, or its client gave up) at least WaitingGraceMs, whatever the grace period; once caught up, the grace period', () => {
    const arms = (graceMs: number, ...end: TargetInput[]) => run([joined, upstream('live'), left, ...(graceMs === 0 ? [] : [expired]), held, ...end], IdleTarget, graceMs).effects.flatMap((e) => (e.type === 'arm-grace' ? [e.ms] : []))
    expect(arms(0, turnedAway)).toEqual([WaitingGraceMs])
    expect(arms(1000, turnedAway)).toEqual([1000, WaitingGraceMs])
    expect(arms(120_000, turnedAway)).toEqual([120_000, 120_000])
    expect(arms(1000, heldClosed)).toEqual([1000, WaitingGraceMs])
    expect(run([joined, upstream('live'), left], IdleTarget, 0).state.behind).toBe(true)
    // No grace period: a held viewer closing (its client's ready timeout shorter than HoldMs)
    // leaves the reopened upstream to catch up for its return, not closed at once.
    expect(arms(0, heldClosed)).toEqual([WaitingGraceMs])
    // Caught up and let in, it closed before it joined: the grace period, as a viewer leaving.
    expect(arms(1000, upstream('live'), stored, heldClosed)).toEqual([1000, 1000])
  })

  it('tells viewers the words it was given, and the codes of the shared table', () => {
    const { effects } = run([joined, upstream('live'), upstream('connecting', 'reconnects in 2 s')])
    expect(effects.at(-1)).toEqual({ type: 'tell', to: 'all', code: RelayControlCode.UpstreamConnecting, detail: 'reconnects in 2 s' })
    const failed = step(run([joined]).state, { ...upstream('failed', 'Refused.'), at: Date.UTC(2026, 0, 1), random: 0.5 }, config)
    expect(failed.effects.at(-1)).toEqual({ type: 'refuse', to: 'all', detail: 'Refused. The relay tries again at 2026-01-01T00:01:00.000Z, or sooner when its operator asks.' })
    expect(failed.state.detail).toBe((failed.effects.at(-1) as { detail: string }).detail)
  })

  it('waits the first delay, doubling to the cap, jittered within ±20 % and never over the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => retryDelay(n, 0.5))).toEqual([60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000, 1_800_000])
    expect(retryDelay(0, 0)).toBe(48_000)
    expect(retryDelay(0, 0.999_999)).toBe(72_000)
    expect(retryDelay(1, 0, { firstMs: 10, maxMs: 15 })).toBe(12)
    expect(retryDelay(1, 0.999, { firstMs: 10, maxMs: 15 })).toBe(15)
    fc.assert(
      fc.property(fc.nat(2000), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 1e7 }), fc.integer({ min: 0, max: 1e7 }), (retries, random, firstMs, more) => {
        const policy = { firstMs, maxMs: firstMs + more }
        const ms = retryDelay(retries, random, policy)
        const backoff = Math.min(policy.maxMs, firstMs * 2 ** Math.min(retries, 52))
        expect(ms).toBeLessThanOrEqual(policy.maxMs)
        expect(ms).toBeGreaterThanOrEqual(Math.floor(backoff * 0.8))
        expect(Number.isSafeInteger(ms)).toBe(true)
      }),
    )
    expect(RetryDefaults).toEqual({ firstMs: 60_000, maxMs: 1_800_000 })
    expect(Object.isFrozen(RetryDefaults)).toBe(true)
  })

  it('arms the retry from the configured policy and the failure\'s jitter sample', () => {
    const retry = { firstMs: 1000, maxMs: 3000 }
    let state = run([joined]).state
    const waits: number[] = []
    for (let i = 0; i < 4; i++) {
      const failed = step(state, { ...upstream('failed'), random: 0 }, { graceMs: 0, retry })
      waits.push(...failed.effects.flatMap((e) => (e.type === 'arm-retry' ? [e.ms] : [])))
      state = step(failed.state, due, { graceMs: 0, retry }).state
    }
    expect(waits).toEqual([800, 1600, 2400, 2400])
  })

  // The properties the relay's promises rest on, over random histories: the upstream is open
  // exactly while it should be, it is opened at most once per period with viewers, once it
  // failed only a retry (its timer, or the operator) reconnects it: viewers never do; and a
  // held viewer is let in only once the target caught up, and never left waiting on a failure.
  it('opens at most once per period with viewers, retries a failure only on its timer or when asked, is open whenever a viewer is held, and lets the held in only caught up', () => {
    const input = fc.oneof(
      fc.constant(joined),
      fc.constant(left),
      fc.constant(expired),
      fc.constant(due),
      fc.constant(now),
      fc.constant(held),
      fc.constant(heldJoined),
      fc.constant(heldClosed),
      fc.constant(turnedAway),
      fc.constant(stored),
      fc.constant(lost),
      fc.constantFrom<'connecting' | 'live' | 'failed'>('connecting', 'live', 'failed').map((s) => upstream(s)),
    )
    // Now and then a whole live period closed by the grace timer, so that histories often reach
    // a target that is behind, where viewers are held.
    const history = fc
      .array(fc.oneof({ arbitrary: input.map((i) => [i]), weight: 6 }, { arbitrary: fc.constant(closedByGrace()), weight: 1 }), { maxLength: 40 })
      .map((chunks) => chunks.flat())
    fc.assert(
      fc.property(history, fc.constantFrom(0, 1000), (inputs, graceMs) => {
        let state = IdleTarget
        let open = false
        let grace = false
        let retry = false
        let viewers = 0
        let retries = 0
        let storing = 0
        // Held viewers still waiting, and those let in that have not joined yet.
        let waiting = 0
        let letIn = 0
        for (const input of inputs) {
          // Model the edge: a viewer only leaves after joining; a timer only fires when armed;
          // core's client reports nothing while it is failed or closed; a viewer is held only
          // when admission says so, turned away only while it waits, joins as a held one only
          // once let in; `stored` only answers an `await-stored`.
          if (input.type === 'viewer-left' && viewers === 0) continue
          if (input.type === 'viewer-held' && admission(state) !== 'hold') continue
          if (input.type === 'hold-ended' && input.turnedAway && waiting === 0) continue
          if (input.type === 'hold-ended' && waiting + letIn === 0) continue
          if (input.type === 'viewer-joined' && input.held === true && letIn === 0) continue
          if (input.type === 'stored' && storing === 0) continue
          if (input.type === 'stored') storing--
          if (input.type === 'grace-expired' && !grace) continue
          if (input.type === 'retry-due' && !retry) continue
          if (input.type === 'upstream' && !open) continue
          if (input.type === 'upstream' && state.upstream === 'failed') continue
          if (input.type === 'viewer-joined') viewers++
          if (input.type === 'viewer-left') viewers--
          if (input.type === 'viewer-held') waiting++
          if (input.type === 'viewer-joined' && input.held === true) letIn--
          // A closing one may be either; a turned-away one is waiting.
          if (input.type === 'hold-ended') {
            if (waiting > 0) waiting--
            else letIn--
          }
          const before = state.upstream
          const wasOpen = open
          const result = step(state, input, { graceMs })
          for (const effect of result.effects) {
            if (effect.type === 'open-upstream') {
              expect(open).toBe(false)
              expect(before).toBe('idle')
              open = true
            }
            if (effect.type === 'retry-upstream') {
              // Never after a viewer's doing: only the timer or the operator.
              expect(['retry-due', 'retry-now']).toContain(input.type)
              expect(before).toBe('failed')
              expect(open).toBe(true)
              retries++
              expect(effect.attempt).toBeGreaterThan(0)
            }
            if (effect.type === 'close-upstream') open = false
            if (effect.type === 'arm-grace') grace = true
            if (effect.type === 'cancel-grace') grace = false
            if (effect.type === 'arm-retry') {
              expect(retry).toBe(false)
              expect(effect.ms).toBeGreaterThanOrEqual(RetryDefaults.firstMs * 0.8)
              expect(effect.ms).toBeLessThanOrEqual(RetryDefaults.maxMs)
              retry = true
            }
            if (effect.type === 'cancel-retry') retry = false
            if (effect.type === 'refuse') expect(result.state.upstream).toBe('failed')
            if (effect.type === 'refuse' && effect.to === 'held') {
              waiting = 0
              letIn = 0
            }
            if (effect.type === 'await-stored') storing++
            // A fresh client for what the store lost: at once only while one is open (connecting or live).
            if (effect.type === 'refill-upstream') expect(effect.reopen).toBe((before === 'connecting' || before === 'live') && !state.grace)
            if (effect.type === 'admit-held') {
              // Only once what the reopened upstream replayed is stored.
              expect(result.state.behind).toBe(false)
              expect(result.state.upstream).not.toBe('failed')
              letIn += waiting
              waiting = 0
            }
          }
          // Behind from every close (these histories never stop), until stored while live.
          if (wasOpen && result.state.upstream === 'idle') expect(result.state.behind).toBe(true)
          // Behind from every loss of the store's, too.
          if (input.type === 'store-lost') expect(result.state.behind).toBe(true)
          if (state.behind && !result.state.behind) expect([input.type, result.state.upstream]).toEqual(['stored', 'live'])
          // A held viewer always finds the upstream opening, held open for it.
          if (input.type === 'viewer-held') expect(result.state.upstream).not.toBe('idle')
          // Caught up, nobody is left waiting.
          if (!result.state.behind) expect(waiting).toBe(0)
          if (input.type === 'grace-expired') grace = false
          if (input.type === 'retry-due') retry = false
          state = result.state
          expect(state.viewers).toBe(viewers)
          expect(state.held).toBe(waiting + letIn)
          // A failed upstream keeps its client (socketless) so that a retry can reconnect it.
          expect(open).toBe(state.upstream !== 'idle')
          // Failed: always a retry armed; otherwise never one. And nobody held.
          expect(retry).toBe(state.upstream === 'failed')
          expect(state.retryArmed).toBe(retry)
          if (state.upstream === 'failed') expect(state.held).toBe(0)
          if (viewers > 0 || state.held > 0) expect(state.upstream).not.toBe('idle')
          if (viewers === 0 && state.held === 0 && (state.upstream === 'connecting' || state.upstream === 'live') && state.retries === 0) expect(grace).toBe(true)
          expect(state.grace).toBe(grace)
          if (state.upstream === 'live') expect(state.retries).toBe(0)
        }
        expect(retries).toBeGreaterThanOrEqual(0)
      }),
      { numRuns: 500 },
    )
  })
})

describe('retryWords', () => {
  // Found by fuzzing the machine (2026-12-08): `at` is a plain number, and one no Date can hold
  // made toISOString throw a RangeError from the pure step.
  it.each([1e16, Number.NaN, -1e16])('a failed status at %s is said as a wait, not thrown', (at) => {
    const joined = step(IdleTarget, { type: 'viewer-joined' }, { graceMs: 0 }).state
    const failed = step(joined, { type: 'upstream', status: 'failed', detail: 'd', log: 'l', at, random: 0.5 }, { graceMs: 0 })
    expect(failed.state.upstream).toBe('failed')
    expect(failed.state.detail).toMatch(/tries again in \d+ s/)
  })
})
