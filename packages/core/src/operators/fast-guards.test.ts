import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ContextCodecs, contextCodecOf, ControlPayload, FatesEvent, WrappedEvent } from '../codec/index.js'
import { producerContextSamples } from '../testing/producer-contexts.js'
import { looksLikeContext } from './context-guard.js'
import { looksLikeControl, looksLikeEvent, looksLikeWrappedEvent } from './fast-guards.js'

// Values as JSON.parse makes them, biased towards the shapes the guards look at.
const scalar = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null))
const meta = fc.record(
  {
    e: fc.oneof(fc.integer(), scalar),
    eid: fc.oneof(fc.string(), scalar),
    ts: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), scalar),
    t: fc.oneof(fc.integer(), fc.array(fc.integer()), fc.array(scalar), scalar),
    id: scalar,
    wt: fc.oneof(fc.integer(), scalar),
  },
  { requiredKeys: [] },
)
const ctx = fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.array(scalar), scalar)
const event = fc.record({ m: fc.oneof(meta, scalar), ctx }, { requiredKeys: [] })
const wrapped = fc.record(
  {
    code: fc.constant('event'),
    dat: fc.oneof(event, scalar),
    chan: fc.oneof(fc.string(), scalar),
    control: fc.oneof(fc.constant(false), scalar),
    detail: fc.oneof(fc.constant(null), scalar),
  },
  { requiredKeys: ['code'] },
)
const control = fc.record(
  { code: scalar, control: fc.constant(true), detail: scalar, ts: scalar, requests_remaining: scalar, chan: scalar },
  { requiredKeys: ['control'] },
)
// Every field valid, optional ones present or not: about half of each shape's samples come
// from these, so each property sees accepted values in every run (the noisy shapes alone
// produced an accepted wrapped event only in some runs, and the test failed by chance).
const validMeta = fc.record(
  {
    e: fc.integer(),
    eid: fc.string(),
    ts: fc.double({ noNaN: true, noDefaultInfinity: true }),
    t: fc.oneof(fc.integer(), fc.array(fc.integer())),
    id: fc.oneof(fc.string(), fc.constant(null)),
    wt: fc.integer(),
  },
  { requiredKeys: ['e'] },
)
const validEvent = fc.record({ m: validMeta, ctx: fc.dictionary(fc.string(), fc.jsonValue()) })
// Every field valid but one (the wrapper's own fields): a guard that skipped a field's check
// would accept these, and the codec not (mutation testing found `detail` unchecked otherwise).
const nearlyValidWrapped = fc.record(
  {
    code: fc.constant('event'),
    dat: validEvent,
    chan: fc.oneof(fc.string(), fc.integer()),
    control: fc.oneof(fc.constant(false), fc.constant(true), fc.constant(null)),
    detail: fc.oneof(fc.constant(null), fc.string(), fc.integer()),
  },
  { requiredKeys: ['code', 'dat'] },
)
const validControl = fc.record(
  {
    code: fc.string(),
    control: fc.constant(true),
    detail: fc.oneof(fc.string(), fc.constant(null)),
    ts: fc.double({ noNaN: true, noDefaultInfinity: true }),
    requests_remaining: fc.integer(),
    chan: fc.string(),
  },
  { requiredKeys: ['code', 'control'] },
)
const json = <T>(arbitrary: fc.Arbitrary<T>) =>
  arbitrary.map((value) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>)

describe('fast guards are their codec on JSON.parse output', () => {
  it.each([
    ['looksLikeEvent', looksLikeEvent, FatesEvent, fc.oneof(validEvent, event)],
    ['looksLikeWrappedEvent', looksLikeWrappedEvent, WrappedEvent, fc.oneof(nearlyValidWrapped, wrapped)],
    ['looksLikeControl', looksLikeControl, ControlPayload, fc.oneof(validControl, control)],
  ] as const)('%s(x) ⇔ codec.is(x), accepting and rejecting in every run', (_name, guard, codec, shape) => {
    // Both ways: decoding runs the guard alone (no io-ts up front), so a value the codec
    // accepts and the guard refused would be lost as an unknown shape.
    let accepted = 0
    let rejected = 0
    fc.assert(
      fc.property(json(shape as fc.Arbitrary<unknown>), (value) => {
        const verdict = guard(value)
        if (verdict) accepted++
        else rejected++
        expect(verdict).toBe(codec.is(value))
      }),
      { numRuns: 3000 },
    )
    expect(accepted).toBeGreaterThan(0)
    expect(rejected).toBeGreaterThan(0)
  })

  it('looksLikeContext(e, ctx) ⇒ contextCodecOf(e).is(ctx), for every name with a codec', () => {
    const names = Object.keys(ContextCodecs).map(Number)
    const user = fc.oneof(fc.string(), fc.integer(), fc.constant(null), scalar)
    const strings = fc.oneof(fc.array(fc.string()), fc.array(scalar), scalar)
    const context = fc.oneof(
      fc.record(
        {
          user,
          votes: fc.oneof(fc.integer(), scalar),
          test: fc.oneof(fc.boolean(), scalar),
          widget: fc.oneof(fc.boolean(), scalar),
          api: fc.oneof(fc.boolean(), scalar),
          new_owner: user,
          // Reviews' fields, each of its type or not.
          id: fc.oneof(fc.string(), fc.array(fc.string()), scalar),
          star_rating: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), scalar),
          reply: fc.oneof(fc.boolean(), scalar),
          review: fc.oneof(fc.string(), scalar),
          upvotes: fc.oneof(fc.integer(), scalar),
          downvotes: fc.oneof(fc.integer(), scalar),
          upvote: fc.oneof(fc.boolean(), scalar),
          // Items' fields.
          ids: strings,
          names: strings,
          nuke: fc.oneof(fc.boolean(), scalar),
        },
        { requiredKeys: [] },
      ),
      fc.array(scalar),
    )
    let accepted = 0
    fc.assert(
      fc.property(fc.constantFrom(...names, 19, 999), json(context), (e, ctx) => {
        if (looksLikeContext(e, ctx)) {
          accepted++
          expect(contextCodecOf(e).is(ctx)).toBe(true)
        }
      }),
      { numRuns: 3000 },
    )
    expect(accepted).toBeGreaterThan(0)
  })

  // The guard is there to keep io-ts off the common path: every ctx a producer sent must pass it
  // alone. (A guard refusing more stays correct, the codec answering instead, but slow.)
  it('passes every ctx the original\'s producers sent without asking the codec (CONTEXTS.md)', () => {
    const refused = producerContextSamples().filter(({ e, ctx }) => !looksLikeContext(e, ctx as Record<string, unknown>))
    expect(refused.map((s) => s.label)).toEqual([])
    expect(looksLikeContext(12, { user: '1', new_owner: '563808552288780322' })).toBe(true)
    expect(looksLikeContext(2, { user: '1' })).toBe(true)
  })

  it('accepts the recorded shapes', () => {
    const dat = { ctx: { test: false, user: '118', votes: 18 }, m: { e: 0, eid: '4c85', t: -1, ts: 1700000018.5 } }
    expect(looksLikeEvent(dat)).toBe(true)
    expect(looksLikeContext(dat.m.e, dat.ctx)).toBe(true)
    expect(looksLikeContext(16, { user: null, widget: false })).toBe(true)
    expect(looksLikeContext(17, { user: 1, api: true })).toBe(true)
    // The rest of the codecs' names, and one without a codec: no io-ts for the usual shapes.
    const review = { user: '118', id: '4c85', star_rating: 4.5, reply: false, review: 'great', upvotes: 2, downvotes: 0 }
    for (const e of [30, 31, 32, 33]) expect(looksLikeContext(e, review)).toBe(true)
    expect(looksLikeContext(30, { ...review, upvote: true, star_rating: null, reply: null, review: null })).toBe(true)
    expect(looksLikeContext(40, { user: null, id: ['a', 'b'], names: ['x'] })).toBe(true)
    expect(looksLikeContext(51, { user: null, id: 'a', ids: ['a'], nuke: true })).toBe(true)
    expect(looksLikeContext(12, { user: '1', new_owner: 563808552288780322 })).toBe(true)
    expect(looksLikeContext(2, { anything: [1, 'x'] })).toBe(true)
    // And what each leaves to the codec: a wrong type in any field, a context that is a list.
    expect(looksLikeContext(31, { ...review, upvotes: '2' })).toBe(false)
    expect(looksLikeContext(31, { ...review, star_rating: '4' })).toBe(false)
    expect(looksLikeContext(40, { user: null, names: ['x', 1] })).toBe(false)
    expect(looksLikeContext(12, { user: '1' })).toBe(false)
    expect(looksLikeContext(0, { user: true, votes: 1 })).toBe(false)
    expect(looksLikeContext(2, { user: true })).toBe(true)
    expect(looksLikeContext(2, [1] as unknown as Record<string, unknown>)).toBe(false)
    expect(looksLikeWrappedEvent({ chan: 'bot-1', code: 'event', control: false, dat, detail: null })).toBe(true)
    expect(looksLikeControl({ code: 'ready', detail: 'x', ts: 1, requests_remaining: 18, control: true })).toBe(true)
  })
})
