import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { TestScheduler } from 'rxjs/testing'
import { map } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally } from './kept.js'
import { clockTime, controlLogView, toFeedRow } from './feed.js'

// `m.ts` and a control payload's `ts` are any JSON number (core's codec: `t.number`); a server
// that writes microseconds (1.7e15) gives a time no Date can hold, and Intl throws on it.
const now = 1_700_000_000_000

describe('a wire timestamp no clock can show', () => {
  it('leaves the rest of its burst counted', () => {
    const events: ReceivedEvent[] = [
      { m: { e: 0, eid: 'a', ts: 1_700_000_000 }, ctx: {} },
      { m: { e: 0, eid: 'b', ts: 1.7e15 }, ctx: {} },
      { m: { e: 0, eid: 'c', ts: 1_700_000_001 }, ctx: {} },
    ]
    const tally = addEvents(emptyTally(now), events, now)
    expect(tally.total).toBe(3)
    expect(tally.feed.map((row) => row.key)).toEqual(['3', '2', '1'])
    // Shown at its arrival, like an event without m.ts.
    expect(tally.feed[1]?.time).toBe(clockTime(now))
  })

  it('is a feed row at its arrival time, not a throw', () => {
    expect(toFeedRow({ m: { e: 0, ts: -2.5e15 }, ctx: {} }, 1, now).time).toBe(clockTime(now))
  })

  it('leaves the control log running', () => {
    new TestScheduler((a, e) => expect(a).toEqual(e)).run(({ hot, expectObservable }) => {
      const control$ = hot<ControlPayload>('-a-b', {
        a: { code: 'x', control: true, ts: 9e15 },
        b: { code: 'y', control: true },
      })
      expectObservable(controlLogView(control$, 5, () => now).pipe(map((rows) => rows.map((r) => `${r.code}@${r.time}`)))).toBe('0a-b', {
        0: [],
        a: [`x@${clockTime(now)}`],
        b: [`y@${clockTime(now)}`, `x@${clockTime(now)}`],
      })
    })
  })
})
