import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { Decoded } from './diagnostic.js'
import { partitionPayloads } from './partition-payloads.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const control = { code: 'ready', control: true as const }
const event = { m: { e: 0 }, ctx: {} }
const bad = { kind: 'not-json' as const, message: 'm', raw: 'r' }
const unsafe = { kind: 'unsafe-number' as const, message: 'u', raw: 'r2' }

describe('partitionPayloads', () => {
  it('routes each result to its stream over one upstream subscription', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const decoded = cold<Decoded>('-c-e-d-u-|', {
        c: { type: 'control', control },
        e: { type: 'event', event },
        d: { type: 'diagnostic', diagnostic: bad },
        u: { type: 'event', event, diagnostic: unsafe },
      })
      const { control$, event$, diagnostic$ } = partitionPayloads(decoded)
      expectObservable(control$).toBe('-c-------|', { c: control })
      expectObservable(event$).toBe('---e---e-|', { e: event })
      expectObservable(diagnostic$).toBe('-----d-u-|', { d: bad, u: unsafe })
      expectSubscriptions(decoded.subscriptions).toBe('^--------!')
    })
  })

  it('subscribes the upstream again after it completed and everyone left', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const decoded = cold<Decoded>('-c|', { c: { type: 'control', control } })
      const { control$ } = partitionPayloads(decoded)
      expectObservable(control$).toBe('-c|', { c: control })
      expectObservable(control$, '----^').toBe('-----c|', { c: control })
      expectSubscriptions(decoded.subscriptions).toBe(['^-!', '----^-!'])
    })
  })

  it('passes an upstream error to all three outputs', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const decoded = cold<Decoded>('--#')
      const { control$, event$, diagnostic$ } = partitionPayloads(decoded)
      expectObservable(control$).toBe('--#')
      expectObservable(event$).toBe('--#')
      expectObservable(diagnostic$).toBe('--#')
      expectSubscriptions(decoded.subscriptions).toBe('^-!')
    })
  })

  it('keeps the upstream while any output is subscribed, and lets go after the last', () => {
    scheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const decoded = hot<Decoded>('-c-e-c-e-|', {
        c: { type: 'control', control },
        e: { type: 'event', event },
      })
      const { control$, event$ } = partitionPayloads(decoded)
      expectObservable(control$, '^---!').toBe('-c--', { c: control })
      expectObservable(event$, '^------!').toBe('---e---', { e: event })
      expectSubscriptions(decoded.subscriptions).toBe('^------!')
    })
  })
})
