import { config } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { Fanout } from './fanout.js'

describe('Fanout: what a Subject does for next, as connect()’s event$ uses it', () => {
  afterEach(() => {
    config.onUnhandledError = null
  })

  it('gives each value to every subscriber, in the order they subscribed, and none after they leave', () => {
    const fan = new Fanout<number>()
    const got: string[] = []
    fan.next(0)
    const a = fan.observable.subscribe((n) => got.push(`a${n}`))
    fan.observable.subscribe((n) => got.push(`b${n}`))
    fan.next(1)
    a.unsubscribe()
    fan.next(2)
    expect(got).toEqual(['a1', 'b1', 'b2'])
    // And it lets go of them: rxjs's closed flag would hide a subscriber kept after it left (no
    // value reaches it), but a page that subscribes and leaves all day would leak them.
    expect((fan as unknown as { subscribers: readonly unknown[] }).subscribers).toHaveLength(1)
  })

  it('delivers a value to those there when it arrived: one who joins inside next() gets the next value, one who leaves inside it gets no more', () => {
    const fan = new Fanout<number>()
    const got: string[] = []
    let late: (() => void) | undefined
    fan.observable.subscribe((n) => {
      got.push(`a${n}`)
      if (n === 1) {
        fan.observable.subscribe((m) => got.push(`late${m}`))
        late?.()
      }
    })
    const b = fan.observable.subscribe((n) => got.push(`b${n}`))
    late = () => b.unsubscribe()
    fan.next(1)
    fan.next(2)
    expect(got).toEqual(['a1', 'a2', 'late2'])
  })

  it('a subscriber that throws is reported by rxjs and costs the others nothing', () => {
    const fan = new Fanout<number>()
    const reported: unknown[] = []
    config.onUnhandledError = (error) => reported.push(error)
    const got: number[] = []
    fan.observable.subscribe(() => {
      throw new Error('subscriber bug')
    })
    fan.observable.subscribe((n) => got.push(n))
    fan.next(1)
    fan.next(2)
    expect(got).toEqual([1, 2])
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(reported).toHaveLength(2)
        resolve()
      }, 0),
    )
  })
})
