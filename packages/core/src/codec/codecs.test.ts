import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isRight } from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ControlPayload,
  FatesEvent,
  IdentifyPayload,
  identifyText,
  Integer,
  isSnowflakeId,
  MaxSnowflakeId,
  ServerPayload,
  SnowflakeId,
  WrappedEvent,
} from './codecs.js'
import * as t from 'io-ts'
import { InviteContext, TransferContext, VoteContext } from './contexts.js'
import { describeErrors } from './describe-errors.js'
import { explainShape } from './explain.js'
import { SnowflakeFields, unsafeSnowflakePaths } from './report.js'

interface Step {
  readonly kind: string
  readonly raw?: string
}

const fixtureDir = fileURLToPath(new URL('../../fixtures/original/', import.meta.url))
const recorded = readdirSync(fixtureDir)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) =>
    (JSON.parse(readFileSync(fixtureDir + name, 'utf8')) as Step[]).map((step) => ({ name, step })),
  )
const received = recorded.flatMap(({ name, step }) =>
  step.kind === 'recv' && step.raw !== undefined
    ? step.raw
        .split('\x1f')
        .filter((segment) => segment !== '')
        .map((segment) => [name, segment] as const)
    : [],
)
const sent = recorded.flatMap(({ name, step }) =>
  step.kind === 'send' && step.raw !== undefined ? [[name, step.raw] as const] : [],
)

describe('codecs against the recorded sessions', () => {
  it('found the recordings', () => {
    expect(received.length).toBeGreaterThan(50)
  })

  it.each(received)('%s: a received segment is a server payload (%s)', (_name, segment) => {
    const value: unknown = JSON.parse(segment)
    expect(ServerPayload.is(value)).toBe(true)
    expect(isRight(ServerPayload.decode(value))).toBe(true)
  })

  it.each(sent.filter(([, raw]) => raw.startsWith('{"id":"')))(
    '%s: a well-formed identify is an IdentifyPayload (%s)',
    (_name, raw) => {
      expect(IdentifyPayload.is(JSON.parse(raw))).toBe(true)
    },
  )
})

const control = (extra: object) => ({ code: 'ready', control: true, ...extra })
const event = (m: object, ctx: Record<string, unknown> = { user: '1' }) => ({ m: { e: 0, ...m }, ctx })

describe('ControlPayload', () => {
  it.each([
    ['every documented key', control({ detail: 'x', ts: 1, requests_remaining: 18 }), true],
    ['an unknown code', { code: 'shutdown_soon', control: true }, true],
    ['the later optional chan', control({ chan: 'global' }), true],
    ['extra keys', control({ extra: [1, 2] }), true],
    ['a null detail', control({ detail: null }), true],
    ['control false', { code: 'ready', control: false }, false],
    ['no code', { control: true }, false],
    ['a fractional requests_remaining', control({ requests_remaining: 1.5 }), false],
  ])('%s', (_label, value, ok) => {
    expect(ControlPayload.is(value)).toBe(ok)
    expect(isRight(ControlPayload.decode(value))).toBe(ok)
  })
})

describe('FatesEvent and WrappedEvent', () => {
  it.each([
    ['a full vote', event({ eid: 'a', ts: 1.5, t: -1, id: '1' }, { user: '1', votes: 3 }), true],
    ['only m.e', event({}), true],
    ['t as a list', event({ t: [1, 2] }), true],
    ['a numeric id', event({ id: 811073947382579200 }), true],
    ['an unknown event number', event({ e: 999 }), true],
    ['no m.e', { m: { eid: 'a' }, ctx: {} }, false],
    ['m.e a string', { m: { e: '0' }, ctx: {} }, false],
    ['no ctx', { m: { e: 0 } }, false],
    ['ctx an array', { m: { e: 0 }, ctx: [] }, false],
  ])('bare: %s', (_label, value, ok) => {
    expect(FatesEvent.is(value)).toBe(ok)
    expect(isRight(FatesEvent.decode(value))).toBe(ok)
  })

  it.each([
    ['as the original sent it', { chan: 'global', code: 'event', control: false, dat: event({}), detail: null }, true],
    ['without chan', { code: 'event', dat: event({}) }, true],
    ['with a bad dat', { code: 'event', dat: { m: {} } }, false],
  ])('wrapped: %s', (_label, value, ok) => {
    expect(WrappedEvent.is(value)).toBe(ok)
    expect(isRight(WrappedEvent.decode(value))).toBe(ok)
  })
})

describe('failure reports', () => {
  it('names the path and the expected type, never the value', () => {
    const secret = 'sekrit-token-value'
    const result = IdentifyPayload.decode({ id: 5, token: secret })
    expect(isRight(result)).toBe(false)
    if (result._tag === 'Left') {
      const text = describeErrors(result.left)
      expect(text).toContain('id: expected string')
      expect(text).not.toContain(secret)
    }
  })

  // The names a reader sees: a codec's own where it is the innermost type that failed, and
  // inside a member's generated name (an intersection's or a union's own name never shows: its
  // members fail, not it).
  it.each([
    ['SnowflakeId', SnowflakeId, 'x', '(root): expected SnowflakeId'],
    ['FatesEvent', FatesEvent, 'x', '(root): expected FatesEvent'],
    ['TransferContext', TransferContext, 'x', '(root): expected TransferContext'],
    ['a vote\'s members', VoteContext, 'x', '(root): expected { user: User, votes: Integer }; (root): expected Partial<{ test: boolean }>'],
    [
      'the meta\'s members',
      FatesEvent,
      { m: 5, ctx: {} },
      'm: expected { e: Integer }; m: expected Partial<{ eid: string, ts: number, t: (Integer | Array<Integer>), id: (Snowflake | null), wt: Integer }>',
    ],
    ['the identify\'s flags', IdentifyPayload, { id: '1', token: 't', bot: 'yes' }, 'bot: expected boolean'],
    ['an invite\'s api flag', InviteContext, { user: '1', api: 'yes' }, 'api: expected boolean'],
  ] as const)('names %s', (_label, codec: t.Mixed, value, expected) => {
    const result = codec.decode(value)
    expect(result._tag === 'Left' ? describeErrors(result.left) : 'accepted').toBe(expected)
  })

  it('joins at most `limit` distinct lines, with "; "', () => {
    const result = IdentifyPayload.decode({ id: 1, token: 2, bot: 'yes', send_all: 'no', send_none: 0 })
    if (result._tag !== 'Left') throw new Error('accepted')
    expect(describeErrors(result.left)).toBe('id: expected string; token: expected string; bot: expected boolean')
    expect(describeErrors(result.left, 1)).toBe('id: expected string')
    expect(describeErrors(result.left, 5).split('; ')).toHaveLength(5)
  })

  it('leaves out array indices and union branches from a path, and only those', () => {
    const Listed = t.type({ list: t.array(t.number), a1: t.number, '1a': t.union([t.number, t.null]) })
    const result = Listed.decode({ list: [...Array.from({ length: 12 }, () => 0), 'x'], a1: 'x', '1a': 'x' })
    if (result._tag !== 'Left') throw new Error('accepted')
    expect(describeErrors(result.left, 10)).toBe('list: expected number; a1: expected number; 1a: expected number; 1a: expected null')
  })

  it('explains a value that its shape\'s codec accepts by the codec\'s name alone', () => {
    // Reached only if a fast guard refused what its codec accepts, which a property test rules out.
    expect(explainShape({ m: { e: 0 }, ctx: {} })).toBe('(root): expected FatesEvent')
    expect(explainShape({ control: true, code: 'ready', detail: null })).toBe('(root): expected ControlPayload')
    expect(explainShape({ code: 'event', dat: { m: { e: 0 }, ctx: {} } })).toBe('(root): expected WrappedEvent')
  })

  it('says what it can of an error without a context', () => {
    expect(describeErrors([{ value: 1, context: [] }])).toBe('(root): expected a valid value')
  })

  it('finds numeric snowflakes that lost precision', () => {
    expect(unsafeSnowflakePaths(event({ id: 811073947382579200 }, { user: 12 }))).toEqual(['m.id'])
    expect(unsafeSnowflakePaths(event({ id: '811073947382579200' }))).toEqual([])
  })

  it.each(SnowflakeFields)('finds a rounded number in %s.%s (the fast check covers every field)', (part, key) => {
    const m = part === 'm' ? { [key]: 811073947382579200 } : {}
    const ctx = part === 'ctx' ? { [key]: 811073947382579200 } : {}
    expect(unsafeSnowflakePaths(event(m, ctx))).toEqual([`${part}.${key}`])
    expect(SnowflakeFields).toEqual([['m', 'id'], ['ctx', 'user'], ['ctx', 'new_owner']])
  })
})

describe('SnowflakeId: the one rule for a bot or server ID', () => {
  it.each([
    ['1', true],
    ['811073947382579200', true],
    ['9223372036854775807', true],
    ['9223372036854775808', false],
    ['18446744073709551615', false],
    ['99999999999999999999', false],
    ['0', false],
    ['', false],
    ['007', false],
    ['+5', false],
    ['-5', false],
    [' 5', false],
    ['5n', false],
    ['1e3', false],
  ])('%j → %s', (id, ok) => {
    expect(isSnowflakeId(id)).toBe(ok)
    expect(SnowflakeId.is(id)).toBe(ok)
    expect(isRight(SnowflakeId.decode(id))).toBe(ok)
  })

  it('is a positive int64 written canonically, as the original server parsed it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 65n }), (n) => {
        expect(isSnowflakeId(n.toString())).toBe(n > 0n && n <= MaxSnowflakeId)
      }),
    )
  })

  it('rejects numbers: a snowflake does not fit a JS number', () => {
    expect(isSnowflakeId(811073947382579200)).toBe(false)
  })
})

describe('identifyText', () => {
  it('writes every key of IdentifyPayload, in the protocol order, and decodes back', () => {
    const text = identifyText({ id: '42', token: 't"k', bot: false, send_all: true, send_none: false })
    expect(text).toBe('{"id":"42","token":"t\\"k","bot":false,"send_all":true,"send_none":false}')
    expect(IdentifyPayload.is(JSON.parse(text))).toBe(true)
  })
})

describe('Integer: one rule for the client and the server', () => {
  it.each([
    [0, true],
    [-7, true],
    [Number.MAX_SAFE_INTEGER, true],
    [Number.MAX_SAFE_INTEGER + 1, false],
    [1e300, false],
    [1.5, false],
    [Number.NaN, false],
    ['1', false],
  ])('%s → %s', (value, ok) => {
    expect(Integer.is(value)).toBe(ok)
    expect(isRight(Integer.decode(value))).toBe(ok)
  })

  it('refuses an event whose m.e is beyond the safe integers, as /publish does', () => {
    expect(FatesEvent.is({ m: { e: 1e300 }, ctx: {} })).toBe(false)
    expect(FatesEvent.is({ m: { e: 16 }, ctx: {} })).toBe(true)
  })
})
