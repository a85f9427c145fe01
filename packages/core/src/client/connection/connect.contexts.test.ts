import { describe, expect, it } from 'vitest'
import { EventName } from '../../protocol/events.js'
import { ofEvent } from '../../operators/of-event.js'
import { harness } from '../../test-support/virtual-client.js'
import type { ReceivedEvent } from '../../codec/codecs.js'

// Issue 19: with default options, a vote whose ctx did not fit its type was dropped by ofEvent
// and nothing reached diagnostic$. Now connect() checks every delivered event's ctx by default
// (checkContexts, a chunk of its own), and reports each mismatch before the event.
const mistyped = '{"m":{"e":0,"eid":"bad-1","ts":1},"ctx":{"user":"1","votes":"lots"}}'
const fine = '{"m":{"e":0,"eid":"ok-1","ts":2},"ctx":{"user":"1","votes":3}}'
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('connect(): no event vanishes unseen', () => {
  // The first test of this file meets the check before its chunk has loaded (virtual time runs
  // ahead of module loading): the event is checked once it has.
  it('checks events delivered before the check had loaded, once it has', async () => {
    const h = harness()
    h.last().handshake()
    h.last().frame(mistyped)
    expect(h.eids()).toEqual(['bad-1'])
    await tick()
    await tick()
    expect(h.diagnostics).toEqual([
      expect.objectContaining({ kind: 'ctx-mismatch', message: expect.stringContaining('ctx.votes') as unknown }),
    ])
    h.leave()
  })

  it('reports a mismatch on diagnostic$ before delivering the event, which ofEvent then leaves out', async () => {
    await tick()
    const h = harness()
    const order: string[] = []
    h.client.diagnostic$.subscribe((d) => order.push(`diagnostic ${d.kind}`))
    const votes: ReceivedEvent[] = []
    h.client.event$.pipe(ofEvent(EventName.BotVote)).subscribe((vote) => {
      order.push(`vote ${vote.m.eid}`)
      votes.push(vote)
    })
    h.last().handshake()
    h.last().frame(mistyped)
    h.last().frame(fine)
    expect(h.eids()).toEqual(['bad-1', 'ok-1'])
    expect(order).toEqual(['diagnostic ctx-mismatch', 'vote ok-1'])
    expect(h.diagnostics).toHaveLength(1)
    expect(h.diagnostics[0]?.raw).toContain('bad-1')
    expect(votes.map((v) => v.m.eid)).toEqual(['ok-1'])
    h.clock.advance(5_000)
    expect(h.metrics().diagnostics).toBe(1)
    h.leave()
  })

  it('checks each event once, not each copy a replay brings again', async () => {
    await tick()
    const h = harness()
    h.last().handshake()
    h.last().frame(mistyped)
    h.last().frame(mistyped)
    expect(h.diagnostics).toHaveLength(1)
    h.leave()
  })

  it('says nothing with checkContexts: false', async () => {
    await tick()
    const h = harness({ checkContexts: false })
    h.last().handshake()
    h.last().frame(mistyped)
    await tick()
    expect(h.eids()).toEqual(['bad-1'])
    expect(h.diagnostics).toEqual([])
    h.leave()
  })

  // JSON.parse takes any depth; the ctx check's JSON.stringify (for the diagnostic's raw)
  // overflowed the stack inside the interpreter: the throw left the frame's deliveries half
  // done, so the event (already marked seen by the eid memory) and the rest of its frame were
  // lost for good, and it escaped as an uncaught error.
  it('delivers an event whose mismatched ctx nests 20,000 deep, and the rest of its frame', async () => {
    const h = harness()
    // The check's chunk loaded, so that it runs as the frame is delivered.
    await tick()
    await tick()
    h.last().handshake()
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const hostile = `{"m":{"e":0,"eid":"deep-1","ts":1},"ctx":{"user":"1","votes":"lots","x":${deep}}}`
    h.last().frame(`${hostile}\x1f\x1f${fine}\x1f`)
    expect(h.eids()).toEqual(['deep-1', 'ok-1'])
    expect(h.diagnostics).toEqual([expect.objectContaining({ kind: 'ctx-mismatch', raw: '' })])
    h.leave()
  })
})
