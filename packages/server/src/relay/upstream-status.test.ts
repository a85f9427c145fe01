import { describe, expect, it } from 'vitest'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { LiveDetail, upstreamInput, upstreamNotice } from './upstream-status.js'

// What viewers are told of the relay's upstream, from the upstream client's status.
describe('upstreamInput()', () => {
  it('says nothing of the relay closing its own upstream', () => {
    expect(upstreamInput({ state: 'closed', since: 1 })).toBeUndefined()
  })

  it('tells a wait without a close from a lost connection, and never passes on core\'s detail', () => {
    const waiting = upstreamInput({ state: 'reconnecting', since: 1, delayMs: 61_250, detail: 'wss://origin.example/ws: budget' })
    expect(waiting).toMatchObject({ status: 'connecting', detail: 'The relay is waiting to connect to its upstream and connects in 61.3 s; stay connected, no event will be missed.' })
    const lost = upstreamInput({ state: 'reconnecting', since: 1, delayMs: 500, close: { code: 1006, reason: '', meaning: 'x' } })
    expect(lost?.detail).toMatch(/^The relay lost its upstream \(close 1006: .+\) and connects in 0\.5 s; stay connected/)
    expect(waiting?.log).toContain('origin.example')
  })

  it.each([
    [undefined, LiveDetail.none],
    ['filled', LiveDetail.filled],
    ['unknown', LiveDetail.unknown],
  ] as const)('says a gap was filled only when core proved it (gap %s)', (gap, detail) => {
    expect(upstreamInput({ state: 'live', since: 1, ...(gap === undefined ? {} : { gap }) })).toMatchObject({ status: 'live', detail })
    expect(detail.includes('filled')).toBe(gap === 'filled')
  })

  it('says live, connecting and failed in its own words', () => {
    expect(upstreamInput({ state: 'live', since: 1 })).toMatchObject({ status: 'live' })
    expect(upstreamInput({ state: 'connecting', since: 1 })).toMatchObject({ status: 'connecting', detail: expect.stringMatching(/^The relay is connecting to its upstream/) })
    const failed = upstreamInput({ state: 'failed', since: 1, close: { code: 4004, reason: 'bad', meaning: 'y' } })
    expect(failed).toMatchObject({ status: 'failed', detail: expect.stringMatching(/refused it \(close 4004: .+\)\.$/) })
  })
})

describe('upstreamNotice()', () => {
  it('passes an upstream relay\'s news down the chain, and nothing else', () => {
    expect(upstreamNotice({ code: RelayControlCode.UpstreamConnecting, detail: 'down', control: true } as never)).toMatchObject({ status: 'connecting' })
    expect(upstreamNotice({ code: RelayControlCode.UpstreamLive, detail: 'up there', control: true } as never)).toMatchObject({
      status: 'live',
      detail: "The relay's upstream relay reports its own upstream live: up there",
    })
    expect(upstreamNotice({ code: 'ready', control: true } as never)).toBeUndefined()
  })
})
