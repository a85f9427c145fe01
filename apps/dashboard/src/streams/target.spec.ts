import type { ConnectionStatus, ControlPayload, Diagnostic, ReceivedEvent } from '@fates-rx/core'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { targetView } from './target.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('targetView', () => {
  it('reaches each client stream once however many parts render it, and feeds every part', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const event$ = hot<ReceivedEvent>('--a-b', {
        a: { m: { e: 0, eid: 'a' }, ctx: { user: '1', votes: 9 } },
        b: { m: { e: 16, eid: 'b' }, ctx: { user: '2' } },
      })
      const control$ = hot<ControlPayload>('-r', { r: { code: 'ready', control: true, requests_remaining: 18 } })
      const status$ = hot<ConnectionStatus>('l', { l: { state: 'live', since: 0 } })
      const diagnostic$ = cold<Diagnostic>('-')
      const view = targetView({ event$, control$, status$, diagnostic$ }, { feedLength: 1, announceEveryMs: 5 })
      const until = '^ 10ms !'
      expectObservable(view.stats$.pipe(map((s) => s.total)), until).toBe('a-b-c', { a: 0, b: 1, c: 2 })
      expectObservable(view.feed$.pipe(map((rows) => rows.map((r) => r.name))), until).toBe('a-b-c', {
        a: [],
        b: ['bot vote'],
        c: ['bot view'],
      })
      expectObservable(view.controlLog$.pipe(map((rows) => rows.length)), until).toBe('ab', { a: 0, b: 1 })
      expectObservable(view.status$.pipe(map((s) => [s.headline, ...s.lines])), until).toBe('ab', {
        a: ['Live'],
        b: ['Live', '18 requests remaining in the ratelimit window'],
      })
      expectObservable(view.diagnostics$.pipe(map((d) => d.count)), until).toBe('a', { a: 0 })
      expectObservable(view.feedAnnouncement$, until).toBe('5ms a', { a: '2 new events: bot vote 1, bot view 1' })
      expectSubscriptions(event$.subscriptions).toBe('^ 10ms !')
      expectSubscriptions(control$.subscriptions).toBe('^ 10ms !')
    })
  })
})
