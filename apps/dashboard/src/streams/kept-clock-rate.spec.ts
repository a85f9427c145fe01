// A tally begun under a clock that was later set back (NTP correcting a fast clock, a
// user fixing the time) kept its `since` in the future; the rates were then scaled by 1 s of
// "time seen" and the chart started at that future second.
import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { addEvents, chartOf, emptyTally, parseTally, serializeTally, statsOf } from './kept.js'

const at = 1_700_000_000_000
const view = (i: number): ReceivedEvent => ({ m: { e: EventName.BotView, eid: `e${i}` }, ctx: {} })

describe('the rates and the chart after the clock was set back', () => {
  // Two minutes of one event a second; then the clock is corrected back by an hour, and the
  // same one event a second goes on for a minute.
  const before = Array.from({ length: 120 }, (_, i) => i).reduce((t, i) => addEvents(t, [view(i)], at + i * 1_000), emptyTally(at))
  const back = at + 120_000 - 3_600_000
  const after = Array.from({ length: 60 }, (_, i) => i + 1).reduce((t, i) => addEvents(t, [view(1_000 + i)], back + i * 1_000), before)
  const now = back + 60_500

  it('reads one a second as about 60 a minute, not 60 times that', () => {
    const rate = statsOf(after, now, 60_000).perMinute[EventName.BotView] ?? 0
    expect(rate).toBeGreaterThan(50)
    expect(rate).toBeLessThan(70)
  })

  it('charts the minute since, and so does the next load', () => {
    expect(chartOf(after, now, 300_000, 60_000).x.length).toBeGreaterThan(50)
    const parsed = parseTally(serializeTally(after))
    if (!('tally' in parsed)) throw new Error(parsed.problem)
    expect(chartOf(parsed.tally, now, 300_000, 60_000).x.length).toBeGreaterThan(50)
  })

  it('charts a quiet target (no event since the clock went back), across a load too', () => {
    // Kept an hour ahead of this clock, and nothing has arrived since it was set back.
    const quiet = addEvents(emptyTally(at + 3_600_000), [view(1)], at + 3_600_000)
    const later = at + 30_000
    expect(chartOf(quiet, later, 300_000, 60_000).x.length).toBeGreaterThan(0)
    const parsed = parseTally(serializeTally(quiet))
    if (!('tally' in parsed)) throw new Error(parsed.problem)
    expect(chartOf(parsed.tally, later, 300_000, 60_000).x.length).toBeGreaterThan(0)
  })
})
