// Never stricter than the original (issue 21): every ctx the original's producers sent
// (ProducerContexts, audited in core's codec/CONTEXTS.md) is accepted by POST /publish, stored,
// replayed and delivered to core's connect(), and reaches ofEvent typed with no ctx-mismatch.
import { connect, type Diagnostic, EventName, type FatesClient, ofEvent, type ReceivedEvent } from '@fates-rx/core'
import { ProducerContexts, producerContextSamples } from '@fates-rx/core/testing'
import fc from 'fast-check'
import { filter, firstValueFrom, from, ReplaySubject, take, toArray } from 'rxjs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { producerEvent } from '../../../core/src/test-support/producer-arbitraries.js'
import type { RunningServer } from '../start.js'
import { backends, RecordedBot, startTestServer } from './harness.js'

/** `m` without the position the server stamped (`m.pos`), which the producer did not send. */
const unpositioned = <M extends { pos?: string }>(m: M): Omit<M, 'pos'> => {
  const { pos, ...rest } = m
  expect(pos).toMatch(/^[0-9a-f]+:\d+$/)
  return rest
}

const adminToken = 'admin-token-for-tests'
const channel = `bot-${RecordedBot.id}`
const everyName = [...new Set(ProducerContexts.map((row) => row.e))]

async function publish(server: RunningServer, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** A core client whose events go through ofEvent(every audited name), recording what it leaves out. */
function typedClient(server: RunningServer, options: { sendAll?: boolean; sendNone?: boolean } = {}) {
  const client: FatesClient = connect({ url: server.url, id: RecordedBot.id, token: RecordedBot.token, ...options })
  const typed = new ReplaySubject<ReceivedEvent>()
  const mismatches: Diagnostic[] = []
  const diagnostics: Diagnostic[] = []
  const subs = [
    client.event$.pipe(ofEvent(...everyName, { onMismatch: (d) => mismatches.push(d) })).subscribe(typed),
    client.diagnostic$.subscribe((d) => diagnostics.push(d)),
  ]
  const close = (): void => {
    for (const sub of subs) sub.unsubscribe()
    client.close()
  }
  /** The typed events with these eids, in arrival order, once all have come. */
  const events = (eids: readonly string[]): Promise<ReceivedEvent[]> => {
    const wanted = new Set(eids)
    return firstValueFrom(typed.pipe(filter((e) => wanted.has(e.m.eid ?? '')), take(wanted.size), toArray()))
  }
  return { client, mismatches, diagnostics, events, close }
}

const live = (client: FatesClient): Promise<unknown> => firstValueFrom(client.status$.pipe(filter((s) => s.state === 'live')))

// What a subscriber receives of a ctx: the JSON the server parsed (a number beyond 2^53 is
// rounded there, as it was by the original's Go server).
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

let server: RunningServer | undefined
const cleanup: (() => void)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0)) step()
  await server?.close()
  server = undefined
})

describe.each(backends())('every producer fixture, with %s', (backend) => {
  beforeAll(() => backend.setup())
  afterAll(() => backend.teardown())

  it('is accepted, stored, delivered live and replayed, typed, with no ctx-mismatch', async () => {
    server = await startTestServer({ adminToken, donePriorDelayMs: 0 }, backend)
    const samples = producerContextSamples()
    const watcher = typedClient(server)
    cleanup.push(watcher.close)
    await live(watcher.client)
    const batch = samples.map(({ e, ctx }, i) => ({ channel, event: { m: { e, eid: `fixture-${i}`, ts: 1_700_000_000 + i / 1000 }, ctx } }))
    const eids = batch.map((b) => b.event.m.eid)
    const reply = await publish(server, batch)
    expect(reply).toEqual({ status: 200, body: { eids, repeat: eids.map(() => false) } })

    const expected = batch.map(({ event }) => ({ m: event.m, ctx: asJson(event.ctx) }))
    const delivered = await watcher.events(eids)
    expect(delivered.map(({ m, ctx }) => ({ m: unpositioned(m), ctx }))).toEqual(expected)
    expect(watcher.mismatches).toEqual([])

    const replaying = typedClient(server, { sendAll: true, sendNone: true })
    cleanup.push(replaying.close)
    const replayed = await replaying.events(eids)
    expect(replayed.every((e) => e.prior === true)).toBe(true)
    expect(replayed.map(({ m, ctx }) => ({ m: unpositioned(m), ctx })).sort((a, b) => (a.m.ts ?? 0) - (b.m.ts ?? 0))).toEqual(expected)
    expect(replaying.mismatches).toEqual([])
    // The only diagnostics: the numeric snowflakes JSON.parse rounded (views, deletes, transfers).
    expect(watcher.diagnostics.length).toBeGreaterThan(0)
    for (const d of [...watcher.diagnostics, ...replaying.diagnostics]) {
      expect(d).toMatchObject({ kind: 'unsafe-number', message: expect.stringMatching(/^ctx\.(user|new_owner)(, ctx\.new_owner)?: numeric snowflake/) as unknown })
    }
  })
})

describe('a review vote whose reply is null (issue 21)', () => {
  it('is accepted, delivered and replayed, typed, with no ctx-mismatch', async () => {
    server = await startTestServer({ adminToken, donePriorDelayMs: 0 })
    const watcher = typedClient(server)
    cleanup.push(watcher.close)
    await live(watcher.client)
    // vote_review_api copies the stored row: reply (like star_rating and review_text) is a nullable column.
    const ctx = { user: '563808552288780322', id: 'r-1', star_rating: null, reply: null, review: null, upvotes: 1, downvotes: 0, upvote: true }
    expect(await publish(server, { channel, event: { m: { e: EventName.ReviewVote, eid: 'rv-1' }, ctx } })).toEqual({ status: 200, body: { eid: 'rv-1', repeat: false } })
    const [delivered] = await watcher.events(['rv-1'])
    expect(delivered?.ctx).toEqual(ctx)
    const replaying = typedClient(server, { sendAll: true, sendNone: true })
    cleanup.push(replaying.close)
    const [replayed] = await replaying.events(['rv-1'])
    expect(replayed).toMatchObject({ prior: true, ctx })
    // Typed as a review vote: reply is boolean | null | undefined.
    const review = await firstValueFrom(from([replayed as ReceivedEvent]).pipe(ofEvent(EventName.ReviewVote)))
    const reply: boolean | null | undefined = review.ctx.reply
    expect(reply).toBeNull()
    expect([...watcher.mismatches, ...replaying.mismatches, ...watcher.diagnostics, ...replaying.diagnostics]).toEqual([])
  })
})

describe('POST /publish and ofEvent against any producer-shaped ctx', () => {
  it('accepts every producer-shaped ctx, with any extra fields, and delivers it typed with no ctx-mismatch (property)', async () => {
    server = await startTestServer({ adminToken })
    const watcher = typedClient(server)
    cleanup.push(watcher.close)
    await live(watcher.client)
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(producerEvent(ProducerContexts), { minLength: 1, maxLength: 4 }), async (generated) => {
        run++
        const batch = generated.map(({ e, ctx }, i) => ({ channel, event: { m: { e, eid: `p-${run}-${i}` }, ctx } }))
        const eids = batch.map((b) => b.event.m.eid)
        const reply = await publish(server!, batch)
        expect(reply).toEqual({ status: 200, body: { eids, repeat: eids.map(() => false) } })
        const delivered = await watcher.events(eids)
        expect(delivered.map(({ m, ctx }) => [m.e, m.eid, ctx])).toEqual(batch.map(({ event }) => [event.m.e, event.m.eid, asJson(event.ctx)]))
        expect(watcher.mismatches).toEqual([])
      }),
      { numRuns: 60 },
    )
  })

  it.each([
    ['a vote whose votes is a string', 0, { user: '1', votes: '57', test: false }, 'event: ctx: votes: expected Integer (for m.e 0)'],
    ['a review vote whose reply is a string', 30, { user: '1', id: 'r', reply: 'no' }, 'event: ctx: reply: expected boolean; reply: expected null (for m.e 30)'],
    ['a command add whose id is a number', 50, { user: null, id: 5 }, 'event: ctx: id: expected string; id: expected Array<string> (for m.e 50)'],
  ])('still refuses %s, naming its path', async (_name, e, ctx, error) => {
    server = await startTestServer({ adminToken })
    expect(await publish(server, { channel, event: { m: { e }, ctx } })).toEqual({ status: 400, body: { error } })
  })
})
