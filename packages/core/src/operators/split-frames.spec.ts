import fc from 'fast-check'
import { config, from, lastValueFrom, type ObservableNotification, take, toArray } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { forEachSegment, splitFrames } from './split-frames.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('splitFrames', () => {
  it('emits each non-empty segment in order, skipping empty ones', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold('-a--b---c-|', {
        a: 'E1\x1f\x1fE2\x1f\x1fE3\x1f',
        b: '\x1f\x1f',
        c: 'C',
      })
      expectObservable(frames.pipe(splitFrames())).toBe('-(xyz)--c-|', {
        x: 'E1',
        y: 'E2',
        z: 'E3',
        c: 'C',
      })
      expectSubscriptions(frames.subscriptions).toBe('^---------!')
    })
  })

  it('passes an error on and unsubscribes with the subscriber', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const frames = cold('-a----#', { a: 'x\x1fy' })
      expectObservable(frames.pipe(splitFrames())).toBe('-(xy)-#', { x: 'x', y: 'y' })
      expectSubscriptions(frames.subscriptions).toBe('^-----!')
      const endless = cold('-a---a', { a: 'p' })
      expectObservable(endless.pipe(splitFrames()), '^--!').toBe('-p-', { p: 'p' })
      expectSubscriptions(endless.subscriptions).toBe('^--!')
    })
  })

  it('stops emitting a frame\'s segments once the subscriber is closed', async () => {
    const { take } = await import('rxjs')
    const seen = await lastValueFrom(from(['a\x1fb\x1fc']).pipe(splitFrames(), take(2), toArray()))
    expect(seen).toEqual(['a', 'b'])
  })

  // Pushing at a subscriber that left is silently dropped by rxjs, so `take` above cannot tell;
  // rxjs reports each such push to config.onStoppedNotification, which can.
  it('pushes nothing at a subscriber once it has left, even within one frame', async () => {
    const dropped: ObservableNotification<unknown>[] = []
    const before = config.onStoppedNotification
    config.onStoppedNotification = (notification) => void dropped.push(notification)
    try {
      const seen = await lastValueFrom(from(['a\x1fb\x1fc\x1fd']).pipe(splitFrames(), take(2), toArray()))
      expect(seen).toEqual(['a', 'b'])
      // rxjs reports through a zero-delay timeout; one queued after those runs after them.
      await new Promise((resolve) => setTimeout(resolve, 0))
      // Only values count: a synchronous source's own completion still arrives (rxjs cannot
      // unsubscribe from a source that has not returned its subscription yet).
      expect(dropped.filter((n) => n.kind === 'N')).toEqual([])
    } finally {
      config.onStoppedNotification = before
    }
  })

  it('forEachSegment agrees with the operator on any string, and stops when told', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom('a', 'b', '\x1f') }), async (frame) => {
        const seen: string[] = []
        forEachSegment(frame, (segment) => void seen.push(segment))
        expect(seen).toEqual(await lastValueFrom(from([frame]).pipe(splitFrames(), toArray())))
        const first: string[] = []
        forEachSegment(frame, (segment) => first.push(segment) < 1)
        expect(first).toEqual(seen.slice(0, 1))
      }),
    )
  })

  it('splits payloads joined by any mix of single, doubled and trailing separators back exactly', async () => {
    const payload = fc.string({ minLength: 1 }).filter((s) => !s.includes('\x1f'))
    const joint = fc.constantFrom('\x1f', '\x1f\x1f', '\x1f\x1f\x1f')
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(payload, joint), { maxLength: 20 }),
        fc.constantFrom('', '\x1f', '\x1f\x1f'),
        fc.constantFrom('', '\x1f'),
        async (parts, trailing, leading) => {
          const frame = leading + parts.map(([p, j], i) => (i === parts.length - 1 ? p : p + j)).join('') + trailing
          const out = await lastValueFrom(from([frame]).pipe(splitFrames(), toArray()))
          expect(out).toEqual(parts.map(([p]) => p))
        },
      ),
    )
  })
})
