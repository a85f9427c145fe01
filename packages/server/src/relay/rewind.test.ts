import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parsePosition } from '@fates-rx/core/protocol'
import { DefaultDedupeCapacity, parseRecord, recordText, unseen } from '@fates-rx/core/sans-io'
import { asksFor, rememberLost, rewoundRecord, type LostEvent } from './rewind.js'

const Bot = 'bot-1'
const ledger = { windowStart: 1_000, remaining: 16, lastIdentifyAt: 1_000 }
const record = (mark: { ts: number; eid: string; tied?: string[]; pos?: Record<string, string> }) => recordText({ mark, ledger })

describe('rewoundRecord', () => {
  it('moves the mark back to the earliest lost event, forgets its eid and ties, and each channel\'s position to just before its earliest lost one', () => {
    const text = record({ ts: 200, eid: 'newest', tied: ['x'], pos: { [Bot]: 'e1:9', global: 'e1:30' } })
    const lost: LostEvent[] = [
      { channel: Bot, ts: 150, pos: 'e1:7' },
      { channel: Bot, ts: 140, pos: 'e1:5' },
    ]
    expect(parseRecord(rewoundRecord(text, lost))).toEqual({ mark: { ts: 140, eid: '', pos: { [Bot]: 'e1:4', global: 'e1:30' } }, ledger })
  })

  it('drops a channel\'s position it cannot rewind: a lost event without one, another epoch, the channel\'s first event', () => {
    const text = record({ ts: 200, eid: 'n', pos: { [Bot]: 'e1:9', global: 'e1:30' } })
    const unpositioned = parseRecord(rewoundRecord(text, [{ channel: Bot, ts: 150, pos: undefined }]))
    expect(unpositioned?.mark?.pos).toEqual({ global: 'e1:30' })
    const otherEpoch = parseRecord(rewoundRecord(text, [{ channel: 'global', ts: 150, pos: 'e2:3' }]))
    expect(otherEpoch?.mark?.pos).toEqual({ [Bot]: 'e1:9' })
    const first = parseRecord(rewoundRecord(text, [{ channel: Bot, ts: 150, pos: 'e1:1' }, { channel: 'global', ts: 150, pos: 'e1:1' }]))
    expect(first?.mark).toEqual({ ts: 150, eid: '' })
  })

  it('rewinds each channel by its own lost events', () => {
    const text = record({ ts: 200, eid: 'n', pos: { [Bot]: 'e1:9', global: 'e1:30' } })
    const lost: LostEvent[] = [
      { channel: Bot, ts: 150, pos: 'e1:8' },
      { channel: 'global', ts: 150, pos: 'e1:20' },
      { channel: 'global', ts: 160, pos: 'e2:25' },
    ]
    // `global`'s other epoch drops its position; it does not touch the bot channel's.
    expect(parseRecord(rewoundRecord(text, lost))?.mark?.pos).toEqual({ [Bot]: 'e1:7' })
    expect(parseRecord(rewoundRecord(text, lost.slice(0, 2)))?.mark?.pos).toEqual({ [Bot]: 'e1:7', global: 'e1:19' })
  })

  it('never moves a position forward: a record rewound before for an earlier loss keeps it', () => {
    const text = record({ ts: 100, eid: '', pos: { [Bot]: 'e1:1' } })
    expect(parseRecord(rewoundRecord(text, [{ channel: Bot, ts: 101, pos: 'e1:3' }]))?.mark?.pos).toEqual({ [Bot]: 'e1:1' })
  })

  it('goes back to before every event when a lost one had no m.ts; keeps a mark already earlier', () => {
    expect(parseRecord(rewoundRecord(record({ ts: 200, eid: 'n' }), [{ channel: Bot, ts: undefined, pos: undefined }]))?.mark?.ts).toBe(-Infinity)
    expect(parseRecord(rewoundRecord(record({ ts: 100, eid: 'n' }), [{ channel: Bot, ts: 150, pos: undefined }]))?.mark).toEqual({ ts: 100, eid: '' })
  })

  it('leaves a record without a mark (the whole history is asked for), no record, and nothing lost as they are', () => {
    const markless = recordText({ ledger })
    expect(rewoundRecord(markless, [{ channel: Bot, ts: 1, pos: undefined }])).toBe(markless)
    expect(rewoundRecord(undefined, [{ channel: Bot, ts: 1, pos: undefined }])).toBeUndefined()
    const text = record({ ts: 200, eid: 'n' })
    expect(rewoundRecord(text, [])).toBe(text)
  })

  // What the rewind is for: resumed from it, the origin sends each lost event again, by the
  // `m.ts` rule (core's `unseen`) and, where a position is kept, exactly after it; and nothing
  // else of the record changes.
  it('makes every lost event unseen by the m.ts rule and after its channel\'s position, keeping the ledger and the other channels', () => {
    const channels = [Bot, 'global', 'server-2']
    const offset = fc.integer({ min: 1, max: 50 })
    const lostEvent = fc.record({
      channel: fc.constantFrom(...channels),
      ts: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
      pos: fc.option(fc.tuple(fc.constantFrom('e1', 'e2'), offset).map(([epoch, n]) => `${epoch}:${n}`), { nil: undefined }),
    })
    const positions = fc.dictionary(fc.constantFrom(...channels), offset.map((n) => `e1:${n}`))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), positions, fc.array(lostEvent, { minLength: 1, maxLength: 8 }), (ts, pos, lost) => {
        const mark = { ts, eid: 'newest', tied: ['t'], ...(Object.keys(pos).length > 0 ? { pos } : {}) }
        const rewound = parseRecord(rewoundRecord(record(mark), lost))
        expect(rewound?.ledger).toEqual(ledger)
        const after = rewound?.mark
        if (after === undefined) throw new Error('the rewound record has no mark')
        for (const event of lost) {
          expect(unseen({ chan: event.channel, m: { e: 0, eid: 'lost', ...(event.ts === undefined ? {} : { ts: event.ts }) }, ctx: {} } as never, after)).toBe(true)
          const kept = parsePosition(after.pos?.[event.channel])
          if (kept !== undefined) expect(kept.offset).toBeLessThan(parsePosition(event.pos)?.offset ?? -1)
          // Never forward of where the record was.
          if (kept !== undefined) expect(kept.offset).toBeLessThanOrEqual(parsePosition(pos[event.channel])?.offset ?? -1)
        }
        for (const channel of channels) {
          if (!lost.some((event) => event.channel === channel)) expect(after.pos?.[channel]).toBe(pos[channel])
        }
        expect(after.ts).toBeLessThanOrEqual(ts)
      }),
      { numRuns: 300 },
    )
  })
})

describe('asksFor', () => {
  const text = record({ ts: 100, eid: 'newest', tied: ['t'], pos: { [Bot]: 'e1:9' } })

  it('by position where the record keeps one: only what followed it, of its epoch', () => {
    expect(asksFor(text, { channel: Bot, ts: 50, pos: 'e1:10' })).toBe(true)
    expect(asksFor(text, { channel: Bot, ts: 150, pos: 'e1:9' })).toBe(false)
    expect(asksFor(text, { channel: Bot, ts: 150, pos: 'e2:10' })).toBe(false)
    expect(asksFor(text, { channel: Bot, ts: 150, pos: undefined })).toBe(false)
  })

  it('counts an event as not asked for where the record keeps a position it cannot read (a hand-edited record)', () => {
    expect(asksFor(record({ ts: 100, eid: 'n', pos: { [Bot]: 'garbage' } }), { channel: Bot, ts: 150, pos: 'e1:3' })).toBe(false)
  })

  it('the whole history on a channel whose position it does not keep, and without a mark', () => {
    expect(asksFor(text, { channel: 'global', ts: 1, pos: 'e1:3' })).toBe(true)
    expect(asksFor(text, { channel: 'global', ts: undefined, pos: undefined })).toBe(true)
    expect(asksFor(recordText({ ledger }), { channel: Bot, ts: 1, pos: 'e1:1' })).toBe(true)
    expect(asksFor(undefined, { channel: Bot, ts: 1, pos: 'e1:1' })).toBe(true)
  })

  // The two agree: a record rewound for some lost events asks for each of them again.
  it('asks a rewound record for every event it was rewound for', () => {
    const lost = fc.record({
      channel: fc.constantFrom(Bot, 'global'),
      ts: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
      pos: fc.option(fc.integer({ min: 1, max: 50 }).map((n) => `e1:${n}`), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.array(lost, { minLength: 1, maxLength: 6 }), (ts, events) => {
        const rewound = rewoundRecord(record({ ts, eid: 'newest', tied: ['t'], pos: { [Bot]: 'e1:60', global: 'e1:60' } }), events)
        for (const event of events) expect(asksFor(rewound, event)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})

describe('rememberLost', () => {
  it('keeps at most its capacity, letting the oldest go first; remembered again, an eid is the newest', () => {
    const lost = new Map<string, boolean>()
    for (const eid of ['a', 'b', 'c']) rememberLost(lost, eid, true, 3)
    rememberLost(lost, 'a', false, 3)
    rememberLost(lost, 'd', true, 3)
    expect([...lost]).toEqual([
      ['c', true],
      ['a', false],
      ['d', true],
    ])
  })

  it('holds the eid memory\'s capacity by default', () => {
    const lost = new Map<string, boolean>()
    for (let i = 0; i <= DefaultDedupeCapacity; i++) rememberLost(lost, `e${i}`, true)
    expect(lost.size).toBe(DefaultDedupeCapacity)
    expect(lost.has('e0')).toBe(false)
    expect(lost.has(`e${DefaultDedupeCapacity}`)).toBe(true)
  })
})
