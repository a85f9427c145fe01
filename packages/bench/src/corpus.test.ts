import { Protocol } from '@fates-rx/core/protocol'
import { describe, expect, it } from 'vitest'
import { baseline } from './baseline.js'
import { buildCorpora, generatePayloads, Random, toFrames } from './corpus.js'

describe('the corpus', () => {
  const payloads = generatePayloads({ payloads: 20_000 })

  it('is identical on every run', () => {
    const again = generatePayloads({ payloads: 20_000 })
    expect(again).toEqual(payloads)
    expect(generatePayloads({ payloads: 20_000, seed: 7 })).not.toEqual(payloads)
  })

  it('holds about 5% control payloads, about 1% replayed events, every one valid JSON', () => {
    const controls = payloads.filter((p) => p.control)
    expect(controls.length / payloads.length).toBeGreaterThan(0.04)
    expect(controls.length / payloads.length).toBeLessThan(0.06)
    for (const p of payloads) expect(JSON.parse(p.json).control).toBe(p.control)
    const eids = payloads.filter((p) => !p.control).map((p) => JSON.parse(p.json).dat.m.eid as string)
    const repeats = eids.length - new Set(eids).size
    expect(repeats / eids.length).toBeGreaterThan(0.005)
    expect(repeats / eids.length).toBeLessThan(0.015)
  })

  it('writes events in the shape of the recorded sessions, keys sorted', () => {
    const event = payloads.find((p) => !p.control)?.json ?? ''
    expect(event).toMatch(/^\{"chan":"(?:(?:bot|server)-\d+|global)","code":"event","control":false,"dat":\{"ctx":\{/)
    expect(event).toMatch(/"m":\{"e":\d+,"eid":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"/)
    expect(event.endsWith(',"detail":null}')).toBe(true)
  })

  it.each([1, 10, 100])('batches %i payloads per frame as the original writer did', (perFrame) => {
    const frames = toFrames(payloads, perFrame)
    for (const frame of frames) {
      if (frame.startsWith('{"code"')) {
        // A control payload alone, with no separator.
        expect(frame.includes(Protocol.separator)).toBe(false)
        continue
      }
      expect(frame.endsWith(Protocol.separator)).toBe(true)
      const segments = frame.split(Protocol.separator)
      const nonEmpty = segments.filter((s) => s !== '')
      expect(nonEmpty.length).toBeLessThanOrEqual(perFrame)
      if (nonEmpty.length > 1) expect(frame).toContain(Protocol.separator + Protocol.separator)
    }
    expect(baseline(frames).payloads).toBe(payloads.length)
  })

  it('builds every batching from the same payloads', () => {
    const [one, ten] = buildCorpora([1, 10], { payloads: 5000 })
    expect(one?.payloads).toBe(5000)
    expect(ten?.controls).toBe(one?.controls)
    expect(ten?.frames.length).toBeLessThan(one?.frames.length ?? 0)
  })

  it('rejects a batching that is not a positive integer', () => {
    expect(() => toFrames(payloads, 0)).toThrow(RangeError)
  })
})

describe('Random', () => {
  it('stays in range and repeats from the same seed', () => {
    const a = new Random(42)
    const b = new Random(42)
    for (let i = 0; i < 1000; i++) {
      const x = a.next()
      expect(x).toBe(b.next())
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThan(1)
    }
    expect(new Random(1).snowflake()).toMatch(/^[1-9]\d{18}$/)
  })
})
