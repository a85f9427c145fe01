import fc from 'fast-check'
import { NEVER } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { redactor, ServerPayload } from '../codec/index.js'
import { EventName } from '../protocol/events.js'
import { allStrings, secretArb, writeJson } from '../test-support/json-escapes.js'
import { decodePayload, decodePayloads } from './decode-payloads.js'
import { type Decoded, MaxDiagnosticRaw } from './diagnostic.js'
import { fromFrames } from './from-frames.js'
import { contextMismatch } from './of-event.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const ready = { code: 'ready', detail: 'Waiting for messages with 2 already made', ts: 1700000000, requests_remaining: 18, control: true }
const dat = { m: { e: 0, eid: 'a', ts: 1700000000.001, t: -1 }, ctx: { user: '563808552288780322', votes: 57, test: false } }
const wrapped = { chan: 'bot-811073947382579200', code: 'event', control: false, dat, detail: null }

describe('decodePayloads', () => {
  it('maps each segment to a control payload, an event or a diagnostic', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const segments = cold('-c-w-b-g-|', {
        c: JSON.stringify(ready),
        w: JSON.stringify(wrapped),
        b: JSON.stringify(dat),
        g: 'garbage',
      })
      expectObservable(segments.pipe(decodePayloads())).toBe('-c-w-b-g-|', {
        c: { type: 'control', control: ready },
        w: { type: 'event', event: { ...dat, chan: wrapped.chan } },
        b: { type: 'event', event: dat },
        g: {
          type: 'diagnostic',
          diagnostic: { kind: 'not-json', message: expect.any(String), raw: 'garbage' },
        },
      })
      expectSubscriptions(segments.subscriptions).toBe('^--------!')
    })
  })

  it('redacts the token from diagnostics and control details', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const redact = (text: string) => text.split('s3cret').join('[redacted]')
      const segments = cold('-a-b-|', {
        a: '{"id":"1","token":"s3cret"',
        b: JSON.stringify({ ...ready, code: 'invalid_payload', detail: 'api token of s3cret' }),
      })
      expectObservable(segments.pipe(decodePayloads({ redact }))).toBe('-a-b-|', {
        a: {
          type: 'diagnostic',
          diagnostic: { kind: 'not-json', message: expect.not.stringContaining('s3cret'), raw: '{"id":"1","token":"[redacted]"' },
        },
        b: { type: 'control', control: { ...ready, code: 'invalid_payload', detail: 'api token of [redacted]' } },
      })
      expectSubscriptions(segments.subscriptions).toBe('^----!')
    })
  })
})

describe('decodePayloads: an event whose ctx does not fit its name', () => {
  const lots = { m: { e: EventName.BotVote, eid: 'l' }, ctx: { user: '1', votes: 'lots' } }
  const fine = { m: { e: EventName.BotVote, eid: 'f' }, ctx: { user: '1', votes: 3 } }
  const mismatch = {
    kind: 'ctx-mismatch',
    message: 'event 0: ctx.votes: expected Integer (on event$, left out by ofEvent and isEvent)',
    raw: JSON.stringify(lots),
  }

  it('fromFrames delivers it on event$ as it is and, by default, reports it on diagnostic$: nothing vanishes unseen', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { event$, diagnostic$ } = fromFrames(cold('-a-|', { a: JSON.stringify(lots) }))
      expectObservable(event$).toBe('-a-|', { a: lots })
      expectObservable(diagnostic$).toBe('-d-|', { d: mismatch })
    })
  })

  it('fromFrames says nothing when its check is turned off, and decodePayloads checks only when asked', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { event$, diagnostic$ } = fromFrames(cold('-a-|', { a: JSON.stringify(lots) }), { checkEvent: () => undefined })
      expectObservable(event$).toBe('-a-|', { a: lots })
      expectObservable(diagnostic$).toBe('---|')
      expectObservable(cold('-a-|', { a: JSON.stringify(lots) }).pipe(decodePayloads())).toBe('-a-|', { a: { type: 'event', event: lots } })
    })
  })

  it('with checkEvent: contextMismatch, delivers it and reports it on diagnostic$', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold('-a-b-|', { a: JSON.stringify(lots), b: JSON.stringify(fine) })
      const { event$, diagnostic$ } = fromFrames(frames, { checkEvent: contextMismatch })
      expectObservable(event$).toBe('-a-b-|', { a: lots, b: fine })
      expectObservable(diagnostic$).toBe('-d---|', { d: mismatch })
      expectSubscriptions(frames.subscriptions).toBe('^----!')
    })
  })

  it('with checkEvent, marks the decoded event', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const segments = cold('-a-b-|', { a: JSON.stringify(lots), b: JSON.stringify(fine) })
      expectObservable(segments.pipe(decodePayloads({ checkEvent: contextMismatch }))).toBe('-a-b-|', {
        a: { type: 'event', event: lots, diagnostic: mismatch },
        b: { type: 'event', event: fine },
      })
    })
  })

  it('tells a rounded snowflake in the same event in the one diagnostic', () => {
    const decoded = decodePayload('{"m":{"e":0},"ctx":{"user":563808552288780322,"votes":"x"}}', undefined, contextMismatch)
    expect(decoded).toMatchObject({ type: 'event', diagnostic: { kind: 'ctx-mismatch', message: expect.stringMatching(/ctx\.votes: expected Integer.*; ctx\.user: numeric snowflake/) } })
  })
})

describe('decodePayload: redaction of every string passed on', () => {
  const token = 'hunter2-token'
  const redact = redactor(token)

  it.each([
    ['a control payload\'s other string field', `{"code":"invalid_auth","control":true,"reason":"bad ${token}"}`, { type: 'control', control: { code: 'invalid_auth', control: true, reason: 'bad [redacted]' } }],
    ['a nested extra of a control payload', `{"code":"x","control":true,"extra":{"list":["${token}"]}}`, { type: 'control', control: { code: 'x', control: true, extra: { list: ['[redacted]'] } } }],
    ['an event\'s ctx', `{"m":{"e":30},"ctx":{"user":"1","review":"my token is ${token}"}}`, { type: 'event', event: { m: { e: 30 }, ctx: { user: '1', review: 'my token is [redacted]' } } }],
    ['an event\'s m and chan', `{"code":"event","chan":"${token}","dat":{"m":{"e":99,"eid":"${token}"},"ctx":{}}}`, { type: 'event', event: { m: { e: 99, eid: '[redacted]' }, ctx: {}, chan: '[redacted]' } }],
    ['a ctx written with \\u escapes', `{"m":{"e":99},"ctx":{"x":"${[...token].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}}`, { type: 'event', event: { m: { e: 99 }, ctx: { x: '[redacted]' } } }],
  ])('redacts %s', (_what, segment, expected) => {
    expect(decodePayload(segment, redact)).toEqual(expected)
  })

  it('redacts a diagnostic\'s raw when the server wrote the token as \\u escapes', () => {
    const escaped = [...token].map((c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`).join('')
    const decoded = decodePayload(`{"id":"1","token":"${escaped}"`, redact)
    expect(decoded).toMatchObject({ type: 'diagnostic', diagnostic: { kind: 'not-json', raw: '{"id":"1","token":"[redacted]"' } })
  })

  it('passes a payload without the token on as parsed, not copied', () => {
    const ctx = decodePayload('{"m":{"e":99},"ctx":{"a":{"b":"c"}}}', redact)
    expect(ctx).toEqual({ type: 'event', event: { m: { e: 99 }, ctx: { a: { b: 'c' } } } })
  })

  const shapes = fc.oneof(
    fc.record({ code: fc.string(), control: fc.constant(true), detail: fc.oneof(fc.string(), fc.constant(null)), reason: fc.string(), requests_remaining: fc.integer(), extra: fc.jsonValue() }, { requiredKeys: ['code', 'control'] }),
    fc.record({
      code: fc.constant('event'),
      chan: fc.string(),
      dat: fc.record({
        m: fc.record({ e: fc.constantFrom(0, 12, 16, 17, 30, 40, 71, 99), eid: fc.string(), ts: fc.double({ noNaN: true, noDefaultInfinity: true }) }, { requiredKeys: ['e'] }),
        ctx: fc.dictionary(fc.string(), fc.jsonValue()),
      }),
    }, { requiredKeys: ['code', 'dat'] }),
    fc.record({ m: fc.record({ e: fc.constantFrom(0, 16, 30, 99), eid: fc.string() }, { requiredKeys: ['e'] }), ctx: fc.record({ user: fc.string(), votes: fc.oneof(fc.integer(), fc.string()), review: fc.string(), names: fc.array(fc.string()) }, { requiredKeys: [] }) }),
    fc.jsonValue(),
  )

  it('passes the token on in nothing, however the server escaped it and wherever it put it (property)', () => {
    const seen = new Set<string>()
    fc.assert(
      fc.property(secretArb, shapes, fc.integer(), fc.nat(), (secret, shape, seed, cut) => {
        const written = writeJson(shape, seed, { secret, chance: 0.25 })
        // Whole segments, and cut ones (not JSON: the raw diagnostic path).
        const segment = cut % 4 === 0 ? written.text.slice(0, cut % (written.text.length + 1)) : written.text
        const r = redactor(secret)
        const decoded: Decoded = decodePayload(segment, r)
        seen.add(decoded.type === 'diagnostic' ? decoded.diagnostic.kind : decoded.type)
        if (decoded.type === 'event' && decoded.diagnostic !== undefined) seen.add(decoded.diagnostic.kind)
        const passed = decoded.type === 'control' ? decoded.control : decoded.type === 'event' ? decoded.event : undefined
        for (const s of allStrings(passed)) expect(s).not.toContain(secret)
        const diagnostic = decoded.type === 'diagnostic' ? decoded.diagnostic : decoded.type === 'event' ? decoded.diagnostic : undefined
        if (diagnostic !== undefined) {
          for (const text of [diagnostic.raw, diagnostic.message]) {
            expect(text).not.toContain(secret)
            expect(r(text)).toBe(text) // no spelling of it left
          }
        }
      }),
      { numRuns: 1500 },
    )
    // Not vacuous: every path was taken.
    expect([...seen].sort()).toEqual(['control', 'event', 'not-json', 'unknown-shape'])
  })
})

describe('decodePayload', () => {
  it.each([
    ['not JSON', '{', 'not-json'],
    ['an array', '[1,2]', 'unknown-shape'],
    ['a number', '42', 'unknown-shape'],
    ['null', 'null', 'unknown-shape'],
    ['a control payload without a code', '{"control":true}', 'unknown-shape'],
    ['an event without m.e', '{"m":{"eid":"x"},"ctx":{}}', 'unknown-shape'],
    ['a wrapped event with a bad dat', '{"code":"event","dat":{"m":{"e":"0"},"ctx":{}}}', 'unknown-shape'],
  ] as const)('%s is a %s diagnostic', (_what, segment, kind) => {
    const decoded = decodePayload(segment)
    expect(decoded).toMatchObject({ type: 'diagnostic', diagnostic: { kind, raw: segment } })
  })

  it('explains a shape failure by path and type, without values', () => {
    const decoded = decodePayload('{"code":"event","dat":{"m":{"e":"secretvalue"},"ctx":{}}}')
    expect(decoded.type === 'diagnostic' && decoded.diagnostic.message).toBe('dat.m.e: expected Integer')
  })

  // The explanation names the shape the segment most looks like, so that it points at the one
  // mistake rather than at every branch of the union.
  it.each([
    ['an array', '[1,2]', /^\(root\): .*got an array$/],
    ['a number', '42', /^\(root\): .*got number$/],
    ['a string', '"text"', /^\(root\): .*got string$/],
    ['a boolean', 'true', /^\(root\): .*got boolean$/],
    ['null', 'null', /^\(root\): .*got null$/],
    ['an object like nothing known', '{"code":"x","control":false}', /^\(root\): .*got object$/],
    ['a control payload', '{"control":true}', /^code: expected string$/],
    ['a wrapped event', '{"code":"event"}', /^dat: expected /],
    ['an event by its m', '{"m":{"e":0}}', /^ctx: expected /],
    ['an event by its ctx', '{"ctx":{}}', /^m: expected /],
  ])('explains %s against the shape it looks like', (_what, segment, message) => {
    const decoded = decodePayload(segment)
    expect(decoded.type === 'diagnostic' && decoded.diagnostic.message).toMatch(message)
  })

  // The engine's own reason is kept when it quotes nothing of the segment (V8 quotes the text
  // around a bad character; end of input it just names).
  it.each(['', '{"a":', '[1,'])('keeps the engine\'s reason for %j, which quotes nothing', (segment) => {
    let reason = ''
    try {
      JSON.parse(segment)
    } catch (error) {
      reason = (error as Error).message
    }
    expect(reason).not.toMatch(/["'`]/)
    expect(decodePayload(segment)).toMatchObject({ type: 'diagnostic', diagnostic: { kind: 'not-json', message: reason } })
  })

  it.each([
    ['no detail', { code: 'ready', control: true }],
    ['a null detail', { code: 'ready', control: true, detail: null }],
    ['a detail without the token', { code: 'ready', control: true, detail: 'all fine' }],
  ])('passes a control payload with %s through a redactor unchanged', (_what, control) => {
    const redact = (text: string) => text.split('s3cret').join('[redacted]')
    expect(decodePayload(JSON.stringify(control), redact)).toEqual({ type: 'control', control })
  })

  it.each([
    ['a bare event without chan', '{"m":{"e":0},"ctx":{},"x":1}', { m: { e: 0 }, ctx: {} }],
    ['a bare event with chan', '{"m":{"e":0},"ctx":{},"chan":"bot-1"}', { m: { e: 0 }, ctx: {}, chan: 'bot-1' }],
    ['a bare event with a non-string chan', '{"m":{"e":0},"ctx":{},"chan":5}', { m: { e: 0 }, ctx: {} }],
  ])('keeps of %s only m, ctx and a string chan', (_what, segment, event) => {
    // Strict: no `chan: undefined` key either.
    expect(decodePayload(segment)).toStrictEqual({ type: 'event', event })
  })

  it('names every rounded snowflake of an event', () => {
    const decoded = decodePayload('{"m":{"e":0,"id":811073947382579200},"ctx":{"user":563808552288780322}}')
    expect(decoded.type === 'event' && decoded.diagnostic?.message).toMatch(/^m\.id, ctx\.user: /)
  })

  it('passes unknown control codes through', () => {
    expect(decodePayload('{"code":"shiny_new","control":true,"extra":1}')).toEqual({
      type: 'control',
      control: { code: 'shiny_new', control: true, extra: 1 },
    })
  })

  it('delivers an event with a rounded numeric snowflake and reports it', () => {
    const segment = '{"m":{"e":0,"eid":"u"},"ctx":{"user":563808552288780322,"votes":1}}'
    const decoded = decodePayload(segment)
    expect(decoded).toMatchObject({
      type: 'event',
      event: { m: { e: 0, eid: 'u' } },
      diagnostic: { kind: 'unsafe-number', raw: segment, message: expect.stringContaining('ctx.user') },
    })
  })

  it.each([
    ['a bare word', (t: string) => `x${t}`],
    ['a word after a good prefix', (t: string) => `{"a":1,"b":x${t}}`],
    ['an unquoted value', (t: string) => `{"token":${t}}`],
  ])('keeps any piece of the token out of a not-json message (%s)', (_what, build) => {
    const token = 'abcdefghijklmnopqrstuvwxyz0123456789'
    const decoded = decodePayload(build(token), (text) => text.split(token).join('[redacted]'))
    expect(decoded.type).toBe('diagnostic')
    const message = decoded.type === 'diagnostic' ? decoded.diagnostic.message : ''
    // V8 quotes about ten characters around the bad one: no four of the token's may show.
    for (let i = 0; i + 4 <= token.length; i++) expect(message).not.toContain(token.slice(i, i + 4))
    expect(message).toMatch(/JSON/)
  })

  it('cuts raw to 1024 characters after redacting', () => {
    const token = 'tok'.repeat(10)
    const segment = 'x'.repeat(1020) + token
    const decoded = decodePayload(segment, (t) => t.split(token).join('[redacted]'))
    expect(decoded.type === 'diagnostic' && decoded.diagnostic.raw).toBe('x'.repeat(1020) + '[red')
    expect(decodePayload('y'.repeat(5000))).toMatchObject({ diagnostic: { raw: 'y'.repeat(MaxDiagnosticRaw) } })
  })

  it('agrees with ServerPayload.is and .decode on any JSON value (is/decode agreement)', () => {
    const meta = fc.record(
      { e: fc.oneof(fc.integer(), fc.double(), fc.string()), eid: fc.string(), ts: fc.double(), t: fc.oneof(fc.integer(), fc.array(fc.integer())) },
      { requiredKeys: [] },
    )
    const shaped = fc.oneof(
      fc.record({ code: fc.oneof(fc.string(), fc.constant('event')), control: fc.oneof(fc.boolean(), fc.constant(true)), detail: fc.oneof(fc.string(), fc.constant(null)), requests_remaining: fc.oneof(fc.integer(), fc.double()) }, { requiredKeys: [] }),
      fc.record({ m: meta, ctx: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()) }, { requiredKeys: [] }),
      fc.record({ code: fc.constant('event'), control: fc.oneof(fc.boolean(), fc.constant(null)), chan: fc.oneof(fc.string(), fc.integer()), dat: fc.record({ m: meta, ctx: fc.dictionary(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      fc.jsonValue(),
    )
    fc.assert(
      fc.property(shaped, (value) => {
        const valid = ServerPayload.is(value)
        expect(ServerPayload.decode(value)._tag === 'Right').toBe(valid)
        const decoded = decodePayload(JSON.stringify(value) ?? 'null')
        // JSON.stringify drops -0 and undefined: compare against the round-tripped value.
        const roundTripped: unknown = JSON.parse(JSON.stringify(value) ?? 'null')
        expect(decoded.type !== 'diagnostic' || decoded.diagnostic.kind !== 'unknown-shape').toBe(ServerPayload.is(roundTripped))
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws on any string', () => {
    fc.assert(fc.property(fc.string(), (s) => void decodePayload(s)))
  })
})

describe('decodePayloads: a bad option is an error at the call', () => {
  // Found by a review: called on the first segment, either threw inside the operator, and
  // every segment was lost to an unhandled error.
  it.each([['redact', { redact: 'token' }], ['checkEvent', { checkEvent: true }]])('%s that is no function', (_, config) => {
    expect(() => decodePayloads(config as never)).toThrow(new TypeError(`decodePayloads(): ${_} must be a function`))
    expect(() => fromFrames(NEVER, config as never)).toThrow(TypeError)
  })
})
