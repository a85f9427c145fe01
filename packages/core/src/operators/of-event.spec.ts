import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/codecs.js'
import { EventName } from '../protocol/events.js'
import { ofEvent } from './of-event.js'

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
