import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/codecs.js'
import { EventName } from '../protocol/events.js'
import { Subject } from 'rxjs'
import type { Diagnostic } from './diagnostic.js'
import { contextMismatch, isEvent, ofEvent } from './of-event.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const vote: ReceivedEvent = { m: { e: EventName.BotVote, eid: 'v' }, ctx: { user: '1', votes: 3 } }
const view: ReceivedEvent = { m: { e: EventName.BotView, eid: 'w' }, ctx: { user: '1', widget: false } }
const oddVote: ReceivedEvent = { m: { e: EventName.BotVote, eid: 'x' }, ctx: { user: '1' } }
const unknown: ReceivedEvent = { m: { e: 99 }, ctx: {} }

describe('ofEvent', () => {
  it('keeps the named events whose ctx has their shape, and mirrors subscriptions', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d-|', { a: vote, b: view, c: oddVote, d: unknown })
      expectObservable(source.pipe(ofEvent(EventName.BotVote))).toBe('a-------|', { a: vote })
      expectSubscriptions(source.subscriptions).toBe('^-------!')
    })
  })

  it('accepts several names, unknown numbers included', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-d-|', { a: vote, b: view, c: oddVote, d: unknown })
      expectObservable(source.pipe(ofEvent(EventName.BotView, 99))).toBe('--b---d-|', {
        b: view,
        d: unknown,
      })
    })
  })

  it('passes errors through', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', { a: vote }).pipe(ofEvent(EventName.BotVote))).toBe('a-#', { a: vote })
    })
  })

  it('refuses to be called with no names', () => {
    expect(() => ofEvent()).toThrow(/at least one event name/)
  })
})

describe('ofEvent: events it leaves out are reported', () => {
  const lots: ReceivedEvent = { m: { e: EventName.BotVote, eid: 'l' }, ctx: { user: '1', votes: 'lots' } }
  const mismatch = {
    kind: 'ctx-mismatch',
    message: 'event 0: ctx.votes: expected Integer (on event$, left out by ofEvent and isEvent)',
    raw: JSON.stringify(lots),
  }

  it('calls onMismatch with a ctx-mismatch diagnostic for each named event whose ctx does not fit', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-d-|', { a: vote, b: lots, c: view, d: oddVote })
      const reported = new Subject<Diagnostic>()
      expectObservable(source.pipe(ofEvent(EventName.BotVote, { onMismatch: (d) => reported.next(d) }))).toBe('a-------|', { a: vote })
      // c is a view: not asked for, so not a mismatch. d is a vote without votes.
      expectObservable(reported).toBe('--b---d', {
        b: mismatch,
        d: { kind: 'ctx-mismatch', message: expect.stringMatching(/^event 0: ctx\.votes: expected Integer/), raw: JSON.stringify(oddVote) },
      })
      expectSubscriptions(source.subscriptions).toBe('^-------!')
    })
  })

  it('takes the config after several names', () => {
    const reported: Diagnostic[] = []
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-c-|', { a: vote, b: lots, c: view })
      expectObservable(source.pipe(ofEvent(EventName.BotVote, EventName.BotView, { onMismatch: (d) => reported.push(d) }))).toBe('a---c-|', { a: vote, c: view })
    })
    expect(reported).toEqual([mismatch])
  })

  it('refuses a config with no names', () => {
    expect(() => ofEvent({ onMismatch: () => undefined } as never)).toThrow(/at least one event name/)
  })
})

describe('contextMismatch', () => {
  it.each([
    ['a missing required key', { m: { e: EventName.BotTransfer }, ctx: { user: '1' } }, 'event 12: ctx.new_owner: expected string'],
    ['a wrong optional key', { m: { e: EventName.BotView }, ctx: { user: '1', widget: 'yes' } }, 'event 16: ctx.widget: expected boolean'],
  ] as const)('names the path and the expected type of %s, never the value', (_what, event, start) => {
    const d = contextMismatch(event as ReceivedEvent)
    expect(d?.message.startsWith(start)).toBe(true)
    expect(d?.message).not.toContain('yes')
  })

  it('is undefined for a fitting ctx, an unknown name, or a name without a codec', () => {
    expect(contextMismatch(vote)).toBeUndefined()
    expect(contextMismatch(unknown)).toBeUndefined()
    expect(contextMismatch({ m: { e: EventName.BotBan }, ctx: { anything: [1] } })).toBeUndefined()
  })

  it('cuts raw to 1024 characters', () => {
    const long: ReceivedEvent = { m: { e: EventName.BotVote }, ctx: { user: 'x'.repeat(5000) } }
    expect(contextMismatch(long)?.raw).toHaveLength(1024)
  })
})

describe('isEvent', () => {
  it('is true for one of the names with a fitting ctx, false otherwise', () => {
    expect(isEvent(vote, EventName.BotVote)).toBe(true)
    expect(isEvent(vote, EventName.BotView, EventName.BotVote)).toBe(true)
    expect(isEvent(view, EventName.BotVote)).toBe(false)
    expect(isEvent(oddVote, EventName.BotVote)).toBe(false)
    expect(isEvent(unknown, 99)).toBe(true)
    expect(isEvent({ m: { e: EventName.BotVote }, ctx: null }, EventName.BotVote)).toBe(false)
  })
})

describe('ofEvent: a bad argument is an error at the call', () => {
  // Found by a review: a misspelt EventName member (undefined in JS) matched nothing, and an
  // onMismatch that is no function errored the stream at the first mismatched event.
  it.each<[string, unknown[]]>([
    ['a name that is undefined (a misspelt EventName member)', [undefined]],
    ['a name that is NaN', [Number.NaN]],
    ['a name that is a string', ['0']],
    ['a name that is null', [0, null]],
    ['an onMismatch that is no function', [0, { onMismatch: 'console.warn' }]],
  ])('%s', (_, args) => {
    expect(() => (ofEvent as (...a: unknown[]) => unknown)(...args)).toThrow(/^ofEvent\(\): /)
  })
})
