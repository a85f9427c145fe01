import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { type Counters, count, metricsOf, NoCounts, type Observed } from './counters.js'
import type { Effect } from './machine.js'

const event = (eid: string): ReceivedEvent => ({ m: { e: 0, eid, ts: 1 }, ctx: {} })

/** What a counted item adds, written the plain way: the model the reducer must agree with. */
type Item = Effect | Observed

const item: fc.Arbitrary<Item> = fc.oneof(
  fc.record({ text: fc.string({ maxLength: 20 }), payloads: fc.nat({ max: 20 }) }).map(({ text, payloads }): Item => ({ type: 'decoded', text, payloads })),
  // The size as the socket said (ws in Node), which the count takes over the text's.
  fc.record({ text: fc.string({ maxLength: 20 }), bytes: fc.nat({ max: 100 }), payloads: fc.nat({ max: 20 }) }).map(({ text, bytes, payloads }): Item => ({ type: 'decoded', text, bytes, payloads })),
  fc.constant<Item>({ type: 'deliver', event: event('a') }),
  fc.array(fc.constant(event('b')), { maxLength: 10 }).map((events): Item => ({ type: 'deliver-live', events })),
  fc
    .nat({ max: 10 })
    .chain((offered) => fc.nat({ max: offered }).chain((events) => fc.nat({ max: events }).map((resumed): Item => ({ type: 'passed', offered, events, resumed })))),
  fc.constant<Item>({ type: 'diagnostic', diagnostic: { kind: 'not-json', message: 'x', raw: 'x' } }),
  fc.constantFrom('1006', 'timeout', 'manual').map((reconnect): Item => ({ type: 'count', reconnect })),
  fc.nat({ max: 5_000 }).map((ms): Item => ({ type: 'ready-after', ms })),
  fc.constantFrom<Item>({ type: 'send', socket: 1, text: 'x' }, { type: 'cancel', timer: 'retry' }, { type: 'read-credentials' }),
)

describe('count (the counters as a pure reducer over effects)', () => {
  it('agrees with counting each item the plain way, and never changes the counters it is given', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 60 }), (items) => {
        const model = { frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, offered: 0, diagnostics: 0, reconnects: {} as Record<string, number>, connectToReadyMs: undefined as number | undefined }
        let counters: Counters = NoCounts
        for (const it of items) {
          const before = JSON.stringify(counters)
          const next = count(counters, it)
          expect(JSON.stringify(counters)).toBe(before)
          counters = next
          if (it.type === 'decoded') {
            model.frames++
            model.bytes += it.bytes ?? new TextEncoder().encode(it.text).length
            model.payloads += it.payloads
          } else if (it.type === 'passed') {
            model.offered += it.offered
            model.events += it.events
            model.resumed += it.resumed
          } else if (it.type === 'diagnostic') model.diagnostics++
          else if (it.type === 'count') model.reconnects[it.reconnect] = (model.reconnects[it.reconnect] ?? 0) + 1
          else if (it.type === 'ready-after') model.connectToReadyMs = it.ms
        }
        expect(counters).toEqual(model)
      }),
      { numRuns: 300 },
    )
  })

  it('returns the same object for an effect that counts nothing (no allocation)', () => {
    const counters = count(NoCounts, { type: 'decoded', text: 'E1', payloads: 1 })
    // A delivery is counted when performed, by what the dedupe let through ('passed').
    expect(count(counters, { type: 'deliver-live', events: [event('a')] })).toBe(counters)
    expect(count(counters, { type: 'send', socket: 1, text: 'x' })).toBe(counters)
    expect(count(counters, { type: 'status', status: { state: 'live', since: 0 } })).toBe(counters)
  })

  it('counts a frame of events once: offered by the machine, passed by the dedupe, the rest duplicates', () => {
    let counters = count(NoCounts, { type: 'decoded', text: 'é\x1fE', payloads: 3 })
    // A deliver-live of a, b, a: the second a is a duplicate.
    counters = count(counters, { type: 'passed', offered: 3, events: 2, resumed: 0 })
    expect(metricsOf(counters, 7)).toEqual({ frames: 1, bytes: 4, payloads: 3, events: 2, resumed: 0, duplicates: 1, diagnostics: 0, reconnects: {}, lastFrameAt: 7 })
  })

  it('gives metrics$ a copy of the reconnects, and leaves out what is not known', () => {
    const counters = count(NoCounts, { type: 'count', reconnect: '1006' })
    const metrics = metricsOf(counters, undefined)
    expect(metrics).toEqual({ frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: { '1006': 1 } })
    expect(metrics.reconnects).not.toBe(counters.reconnects)
    // Absent, not present as undefined (exactOptionalPropertyTypes; toEqual cannot tell).
    expect(Object.keys(metrics)).not.toContain('connectToReadyMs')
    expect(Object.keys(metrics)).not.toContain('lastFrameAt')
    expect(metricsOf(count(counters, { type: 'ready-after', ms: 12 }), undefined).connectToReadyMs).toBe(12)
  })
})
