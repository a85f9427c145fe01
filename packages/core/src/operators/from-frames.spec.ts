import fc from 'fast-check'
import { Subject } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { fromFrames } from './from-frames.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const ev = (eid: string) => ({ m: { e: 0, eid, t: -1, ts: 1700000000.5 }, ctx: { user: '1', votes: 1, test: false } })
const wrap = (eid: string) => JSON.stringify({ chan: 'bot-1', code: 'event', control: false, dat: ev(eid), detail: null })
const got = (eid: string) => ({ ...ev(eid), chan: 'bot-1' })

describe('fromFrames', () => {
  it('handles a batched frame, bare events, unknown control codes and garbage between good segments', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold('-a-----b-c-d----|', {
        a: `${wrap('1')}\x1f\x1f${wrap('2')}\x1f\x1f${wrap('3')}\x1f`,
        b: JSON.stringify(ev('4')),
        c: '{"code":"brand_new","control":true}',
        d: `${wrap('5')}\x1f\x1f{not json\x1f\x1f${wrap('6')}\x1f`,
      })
      const { control$, event$, diagnostic$ } = fromFrames(frames)
      expectObservable(event$).toBe('-(xyz)-b---(56)-|', {
        x: got('1'),
        y: got('2'),
        z: got('3'),
        b: ev('4'),
        5: got('5'),
        6: got('6'),
      })
      expectObservable(control$).toBe('---------c------|', { c: { code: 'brand_new', control: true } })
      expectObservable(diagnostic$).toBe('-----------d----|', {
        d: { kind: 'not-json', message: expect.any(String), raw: '{not json' },
      })
      expectSubscriptions(frames.subscriptions).toBe('^---------------!')
    })
  })

  it('never throws and never ends event$ on random strings and random JSON', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v) ?? ''))), (frames) => {
        const frame$ = new Subject<string>()
        const { event$, diagnostic$ } = fromFrames(frame$)
        let ended = false
        const events: unknown[] = []
        event$.subscribe({ next: (e) => events.push(e), error: () => (ended = true), complete: () => (ended = true) })
        diagnostic$.subscribe()
        for (const frame of frames) frame$.next(frame)
        frame$.next(wrap('last'))
        expect(ended).toBe(false)
        expect(events.at(-1)).toEqual(got('last'))
      }),
      { numRuns: 500 },
    )
  })

  // JSON.parse takes any depth; JSON.stringify (the ctx-mismatch diagnostic's raw) overflowed
  // the stack: the throw escaped the pipeline as an uncaught error, and the event, its
  // diagnostic and the rest of the frame were lost.
  it('delivers an event whose mismatched ctx nests 20,000 deep, with its diagnostic, and the rest of its frame', () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const hostile = `{"m":{"e":0,"eid":"deep"},"ctx":{"user":"1","votes":"lots","x":${deep}}}`
    const frame$ = new Subject<string>()
    const { event$, diagnostic$ } = fromFrames(frame$)
    const eids: unknown[] = []
    const diagnostics: { kind: string; raw: string }[] = []
    event$.subscribe((e) => eids.push(e.m.eid))
    diagnostic$.subscribe((d) => diagnostics.push(d))
    frame$.next(`${hostile}\x1f\x1f${wrap('after')}\x1f`)
    expect(eids).toEqual(['deep', 'after'])
    expect(diagnostics).toEqual([expect.objectContaining({ kind: 'ctx-mismatch', raw: '' })])
  })
})
