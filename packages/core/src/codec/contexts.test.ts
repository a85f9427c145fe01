// The context codecs against the audit of the original's producers (CONTEXTS.md, whose rows are
// ProducerContexts): every shape a producer sent is accepted and delivered typed, and the
// codecs are exactly as strict as the audit's "the codec accepts" column, no stricter.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { from, toArray, lastValueFrom } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { EventName } from '../protocol/events.js'
import { contextMismatch, isEvent, ofEvent } from '../operators/of-event.js'
import type { Diagnostic } from '../operators/diagnostic.js'
import { producerEvent } from '../test-support/producer-arbitraries.js'
import { ProducerContexts, producerContextSamples } from '../testing/producer-contexts.js'
import type { ReceivedEvent } from './codecs.js'
import { contextCodecOf } from './contexts.js'

const samples = producerContextSamples()
const everyName = [...new Set(ProducerContexts.map((row) => row.e))]

/** Delivers `events` through ofEvent(every audited name), collecting what it leaves out. */
async function throughOfEvent(events: readonly ReceivedEvent[]): Promise<{ delivered: readonly ReceivedEvent[]; mismatches: readonly Diagnostic[] }> {
  const mismatches: Diagnostic[] = []
  const delivered = await lastValueFrom(from(events).pipe(ofEvent(...everyName, { onMismatch: (d) => mismatches.push(d) }), toArray()))
  return { delivered, mismatches }
}

describe('context codecs accept every ctx the original’s producers sent (CONTEXTS.md)', () => {
  it('has a fixture for every event number a producer sends', () => {
    expect(new Set(samples.map((s) => s.e))).toEqual(
      new Set([0, 1, 2, 3, 12, 16, 17, 30, 31, 32, 33, 40, 41, 50, 51, 70, 71]),
    )
    // The nullable and number/string variants are among them.
    expect(samples).toContainEqual(expect.objectContaining({ e: EventName.ReviewVote, ctx: expect.objectContaining({ reply: null }) as unknown }))
    expect(samples).toContainEqual(expect.objectContaining({ e: EventName.BotView, ctx: expect.objectContaining({ user: 563808552288780300 }) as unknown }))
    expect(samples).toContainEqual(expect.objectContaining({ e: EventName.BotTransfer, ctx: expect.objectContaining({ new_owner: '563808552288780322' }) as unknown }))
  })

  it.each(samples.map((s) => [s.label, s] as const))('%s', async (_label, { e, ctx }) => {
    const event: ReceivedEvent = { m: { e, eid: 'x' }, ctx }
    const decoded = contextCodecOf(e).decode(ctx)
    // Accepted, and untouched: extras such as root or old_owner come out as they went in.
    expect(decoded).toEqual({ _tag: 'Right', right: ctx })
    expect(contextMismatch(event)).toBeUndefined()
    expect(isEvent(event, e)).toBe(true)
    const { delivered, mismatches } = await throughOfEvent([event])
    expect(mismatches).toEqual([])
    expect(delivered).toEqual([event])
    expect(delivered[0]).toBe(event)
  })

  it('accepts any ctx a producer could send, with any extra fields, and ofEvent delivers it untouched (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(producerEvent(ProducerContexts), { minLength: 1, maxLength: 5 }), async (generated) => {
        const events: ReceivedEvent[] = generated.map(({ e, ctx }, i) => ({ m: { e, eid: String(i) }, ctx }))
        for (const event of events) {
          expect(contextMismatch(event)).toBeUndefined()
          expect(contextCodecOf(event.m.e).decode(event.ctx)).toEqual({ _tag: 'Right', right: event.ctx })
        }
        const { delivered, mismatches } = await throughOfEvent(events)
        expect(mismatches).toEqual([])
        expect(delivered).toEqual(events)
      }),
      { numRuns: 300 },
    )
  })

  it('lists every producer row in CONTEXTS.md, word for word', () => {
    const doc = readFileSync(new URL('./CONTEXTS.md', import.meta.url), 'utf8')
    for (const row of ProducerContexts) {
      const entries = Object.entries(row.fields)
      const fields = entries.length === 0 ? '(none: `{}`)' : entries.map(([key, kinds]) => `${key}: ${kinds.join(', ')}`).join(' · ')
      expect(doc).toContain(`| ${row.e} | \`${row.producer}\` | ${row.commit} | ${fields} |`)
    }
    // And no row there that the data lacks.
    expect(doc.match(/^\| \d+ \| `/gm)).toHaveLength(ProducerContexts.length)
  })
})

// "The codec accepts" in CONTEXTS.md, as values: each field with values it must accept and
// values it must refuse (naming the field's path). Genuinely wrong shapes stay wrong.
const snowflakes = ['563808552288780322', 563808552288780300, 'None', '0']
const Strictness: ReadonlyArray<readonly [event: number, field: string, accepts: readonly unknown[], refuses: readonly unknown[]]> = [
  [EventName.BotVote, 'user', [...snowflakes, null], [true, {}, []]],
  [EventName.BotVote, 'votes', [57, 0, -1], ['57', 'lots', 4.5, 2 ** 53, null, true, undefined]],
  [EventName.BotVote, 'test', [true, false, undefined], ['true', 0, null]],
  [EventName.ServerVote, 'votes', [57], ['lots', null]],
  [EventName.BotView, 'user', [...snowflakes, null], [false, {}]],
  [EventName.BotView, 'widget', [true, false, undefined], ['yes', 1, null]],
  [EventName.BotInvite, 'api', [true, false, undefined], ['true', null]],
  [EventName.ReviewVote, 'user', [...snowflakes, null], [undefined, false]],
  [EventName.ReviewVote, 'id', ['9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21', undefined], [5, null, ['a']]],
  [EventName.ReviewVote, 'star_rating', [4.5, 5, 0, null, undefined], ['5', true]],
  [EventName.ReviewVote, 'reply', [true, false, null, undefined], ['false', 0, 1]],
  [EventName.ReviewVote, 'review', ['Great', '', null, undefined], [5, false, ['a']]],
  [EventName.ReviewVote, 'upvotes', [3, 0, undefined], ['3', null]],
  [EventName.ReviewVote, 'downvotes', [3, undefined], ['3', null]],
  [EventName.ReviewVote, 'upvote', [true, false, undefined], ['true', null, 1]],
  [EventName.ReviewAdd, 'reply', [null, false], ['no']],
  [EventName.CommandAdd, 'id', ['9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21', ['a', 'b'], [], undefined], [5, null, [5], {}]],
  [EventName.CommandDelete, 'ids', [['a'], [], undefined], ['a', null, [1]]],
  [EventName.CommandDelete, 'names', [['ping'], [], undefined], ['ping', null, [null]]],
  [EventName.CommandDelete, 'nuke', [true, false, undefined], ['true', null]],
  [EventName.ResourceAdd, 'user', [null, '1'], [undefined, true]],
  [EventName.BotTransfer, 'user', [...snowflakes, null], [undefined, true]],
  [EventName.BotTransfer, 'new_owner', snowflakes, [null, undefined, true]],
]

/** A fitting ctx of event `e`: its producer's usual one. */
function usual(e: number): Record<string, unknown> {
  const sample = samples.find((s) => s.e === e)
  if (sample === undefined) throw new Error(`no producer sample for ${e}`)
  return { ...sample.ctx }
}

function withField(e: number, field: string, value: unknown): ReceivedEvent {
  const ctx = usual(e)
  if (value === undefined) delete ctx[field]
  else ctx[field] = value
  return { m: { e }, ctx }
}

describe('context codecs are exactly as strict as CONTEXTS.md says', () => {
  it.each(Strictness.flatMap(([e, field, accepts]) => accepts.map((value) => [e, field, value] as const)))(
    'event %i accepts ctx.%s = %j',
    (e, field, value) => {
      expect(contextMismatch(withField(e, field, value))).toBeUndefined()
    },
  )

  it.each(Strictness.flatMap(([e, field, , refuses]) => refuses.map((value) => [e, field, value] as const)))(
    'event %i refuses ctx.%s = %j, naming the path',
    (e, field, value) => {
      const event = withField(e, field, value)
      expect(contextMismatch(event)?.message).toMatch(new RegExp(`^event ${e}: ctx\\.${field}: expected `))
      expect(isEvent(event, e)).toBe(false)
    },
  )

  it('refuses a vote whose votes is a string, with its path, and ofEvent reports it', async () => {
    const lots: ReceivedEvent = { m: { e: EventName.BotVote, eid: 'l' }, ctx: { user: '1', votes: '57' } }
    const { delivered, mismatches } = await throughOfEvent([lots])
    expect(delivered).toEqual([])
    expect(mismatches).toEqual([
      { kind: 'ctx-mismatch', message: 'event 0: ctx.votes: expected Integer (on event$, left out by ofEvent and isEvent)', raw: JSON.stringify(lots) },
    ])
  })
})
