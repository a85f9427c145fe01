import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { producerContextSamples } from '@fates-rx/core/testing'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { Diagnostic } from './client.js'
import { clockTime, controlLogView, diagnosticsView, newest, summarizeContext, toFeedRow } from './feed.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('summarizeContext', () => {
  it.each([
    ['a vote', { user: '1', votes: 57, test: false }, 'votes: 57 · test: false'],
    ['a view', { user: '1', widget: true }, 'widget: true'],
    [
      'a review vote',
      { user: '1', id: 'r1', star_rating: 4.5, reply: false, review: 'great', upvotes: 2 },
      'id: r1 · star_rating: 4.5 · reply: false · review: great',
    ],
    [
      'a review vote of a row whose nullable columns are null',
      { user: '1', id: 'r1', star_rating: null, reply: null, review: null, upvotes: 2 },
      'id: r1 · upvotes: 2',
    ],
    ['a command add', { user: null, id: '5', names: ['ping', 'pong'], nuke: false }, 'id: 5 · names: ping, pong · nuke: false'],
    ['a command add of several', { user: null, id: ['a', 'b'] }, 'id: a, b'],
    ['nested values are skipped', { user: '1', deep: { a: 1 }, list: [{}] }, ''],
    ['markup stays as written', { user: '1', review: '<img src=x onerror=alert(1)>' }, 'review: <img src=x onerror=alert(1)>'],
    ['long text is shortened', { review: 'x'.repeat(200) }, `review: ${'x'.repeat(79)}…`],
  ])('%s', (_label, ctx, expected) => {
    expect(summarizeContext(ctx)).toBe(expected)
  })
})

describe('toFeedRow', () => {
  it('names the event, the user and the time of m.ts, and badges a replay', () => {
    const event: ReceivedEvent = {
      m: { e: 0, eid: 'e1', ts: 1_700_000_000.5 },
      ctx: { user: '563808552288780322', votes: 3 },
      chan: 'bot-1',
      prior: true,
    }
    expect(toFeedRow(event, 7, 0)).toEqual({
      key: '7',
      time: clockTime(1_700_000_000_500),
      name: 'bot vote',
      user: '563808552288780322',
      fields: 'votes: 3',
      prior: true,
      resumed: false,
      chan: 'bot-1',
    })
  })

  it('falls back to the arrival time and names unknown events by number', () => {
    const row = toFeedRow({ m: { e: 99 }, ctx: { user: null } }, 1, 5_000)
    expect([row.name, row.user, row.time, row.prior, row.chan]).toEqual(['unknown event 99', '', clockTime(5_000), false, ''])
    expect(toFeedRow({ m: { e: 0 }, ctx: {}, resumed: true }, 2, 0).resumed).toBe(true)
  })
})

describe('toFeedRow with every ctx the original’s producers sent', () => {
  it.each(producerContextSamples().map((s) => [s.label, s] as const))('%s', (_label, { e, ctx }) => {
    const row = toFeedRow({ m: { e }, ctx }, 1, 0)
    // A numeric snowflake shows its digits; null (a visitor, a system action) shows nobody.
    const user = ctx['user']
    const shown = typeof user === 'string' || typeof user === 'number' ? String(user) : ''
    expect(row.user).toBe(shown.length > 24 ? `${shown.slice(0, 23)}…` : shown)
    expect(row.fields).toBe(summarizeContext(ctx))
  })

  it('shows a numeric snowflake as its digits', () => {
    expect(toFeedRow({ m: { e: 16 }, ctx: { user: 563808552288780300, widget: false } }, 1, 0).user).toBe('563808552288780300')
  })
})

describe('newest', () => {
  it('keeps the newest values, newest first', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abc|')
      expectObservable(source.pipe(newest(2))).toBe('xabc|', { x: [], a: ['a'], b: ['b', 'a'], c: ['c', 'b'] })
      expectSubscriptions(source.subscriptions).toBe('^---!')
    })
  })

  it.each([0, -1, 1.5])('rejects length %s at the call', (length) => {
    expect(() => newest(length)).toThrow(RangeError)
  })
})

describe('controlLogView and diagnosticsView', () => {
  it('log control payloads with code, detail and budget', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ControlPayload>('-ab|', {
        a: { code: 'identity', control: true, detail: 'Send Bot ID', ts: 1, requests_remaining: -1 },
        b: { code: 'ready', control: true, detail: 'Waiting for messages with 2 already made', ts: 2, requests_remaining: 18 },
      })
      const identity = { key: '1', time: clockTime(1_000), code: 'identity', detail: 'Send Bot ID', remaining: '' }
      expectObservable(controlLogView(source, 5, () => 0)).toBe('xab|', {
        x: [],
        a: [identity],
        b: [{ key: '2', time: clockTime(2_000), code: 'ready', detail: 'Waiting for messages with 2 already made', remaining: '18' }, identity],
      })
      expectSubscriptions(source.subscriptions).toBe('^--!')
    })
  })

  it('count every diagnostic and keep the last few', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Diagnostic>('-ab|', {
        a: { kind: 'unknown-shape', message: 'm.e: expected Integer', raw: '{"m":{"e":"x"}}' },
        b: { kind: 'not-json', message: 'Unexpected token', raw: '' },
      })
      expectObservable(diagnosticsView(source, 1)).toBe('xab|', {
        x: { count: 0, last: [] },
        a: { count: 1, last: [{ key: '1', kind: 'unknown-shape', message: 'm.e: expected Integer', raw: '{"m":{"e":"x"}}' }] },
        b: { count: 2, last: [{ key: '2', kind: 'not-json', message: 'Unexpected token', raw: '' }] },
      })
      expectSubscriptions(source.subscriptions).toBe('^--!')
    })
  })
})
