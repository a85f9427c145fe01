import { describe, expect, it } from 'vitest'
import { ContextCodecs, FatesEvent } from '@fates-rx/core/protocol'
import { DEMO_BOT, demoEvent, DemoMix, startDemo } from './demo.js'

/** A deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32
    return state / 2 ** 32
  }
}

describe('demoEvent', () => {
  it('produces views ≫ invites > votes > reviews, all valid events with valid contexts', () => {
    const random = seeded(7)
    const counts = { view: 0, invite: 0, vote: 0, review: 0 }
    for (let n = 0; n < 5000; n++) {
      const { event, kind } = demoEvent({ kind: 'bot', id: DEMO_BOT.id }, n, random, 1_700_000_000_000)
      counts[kind]++
      expect(FatesEvent.is(event)).toBe(true)
      const codec = (ContextCodecs as Record<number, { is(u: unknown): boolean } | undefined>)[event.m.e as number]
      expect(codec?.is(event.ctx)).toBe(true)
    }
    expect(counts.view).toBeGreaterThan(counts.invite * 2)
    expect(counts.invite).toBeGreaterThan(counts.vote)
    expect(counts.vote).toBeGreaterThan(counts.review)
    expect(counts.review).toBeGreaterThan(0)
    expect(Object.keys(counts)).toEqual(Object.keys(DemoMix))
  })

  it('uses server event numbers for a server', () => {
    const random = seeded(3)
    const numbers = new Set<number>()
    for (let n = 0; n < 500; n++) numbers.add(demoEvent({ kind: 'server', id: '5' }, n, random, 0).event.m.e as number)
    expect([...numbers].sort((a, b) => a - b)).toEqual([31, 70, 71, 72])
  })
})

describe('startDemo', () => {
  it('publishes at the rate with rising vote counts', async () => {
    const published: { channel: string; event: { m: { e: number }; ctx: { votes?: number } } }[] = []
    const stop = startDemo(
      async (channel, event) => void published.push({ channel, event: event as never }),
      [{ kind: 'bot', id: '9' }],
      { rate: 200, random: seeded(1) },
      (error) => {
        throw error
      },
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    stop()
    expect(published.length).toBeGreaterThan(20)
    expect(new Set(published.map((p) => p.channel))).toEqual(new Set(['bot-9']))
    const votes = published.filter((p) => p.event.m.e === 0).map((p) => p.event.ctx.votes ?? 0)
    expect(votes).toEqual([...votes].sort((a, b) => a - b))
    expect(new Set(votes).size).toBe(votes.length)
  })

  it.each([0, -1, Number.NaN])('rejects rate %d', (rate) => {
    expect(() => startDemo(async () => {}, [{ kind: 'bot', id: '1' }], { rate }, () => {})).toThrow(/rate/)
  })
})
