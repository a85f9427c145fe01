import type { ReceivedEvent } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally, parseTally, serializeTally, TallyBounds } from './kept.js'

// A target whose server sends many kinds of event each second (unknown codes are counted by
// name, up to TallyBounds.names): its per-second buckets alone outgrow TallyBounds.chars.
describe('a tally whose buckets alone outgrow the storage bound', () => {
  it('keeps its totals across a reload, giving up the oldest seconds first', () => {
    const start = 1_700_000_000_000
    let tally = emptyTally(start)
    for (let s = 0; s < TallyBounds.seconds; s++) {
      const burst: ReceivedEvent[] = Array.from({ length: 60 }, (_, k) => ({ m: { e: 1000 + k, eid: `${s}-${k}` }, ctx: {} }))
      tally = addEvents(tally, burst, start + s * 1000)
    }
    expect(tally.total).toBe(60 * TallyBounds.seconds)
    const text = serializeTally(tally)
    expect(text.length).toBeLessThanOrEqual(TallyBounds.chars)
    const back = parseTally(text)
    if (!('tally' in back)) throw new Error(back.problem)
    expect(back.tally.total).toBe(tally.total)
    expect(back.tally.totals).toEqual(tally.totals)
    // The newest seconds (the chart's right edge) are the ones kept.
    expect(back.tally.buckets.at(-1)).toEqual(tally.buckets.at(-1))
  })
})
