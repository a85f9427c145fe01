import { describe, expect, it } from 'vitest'
import { silentLogger } from '../log.js'
import type { EventListener, Store } from '../stores/store.js'
import type { EncodedEvent } from '../wire/encode.js'
import { ChannelFanOut } from './fan-out.js'

/**
 * A store that counts subscriptions and lets a test publish to the live ones. It keys them by
 * listener, as an event emitter does: two subscriptions with one listener would be one.
 */
function subscriptions() {
  const live = new Map<EventListener, string>()
  let opened = 0
  const store = {
    subscribe(channel: string, listener: EventListener) {
      opened++
      live.set(listener, channel)
      return Promise.resolve(async () => void live.delete(listener))
    },
  } as unknown as Store
  const publish = (channel: string, eid: string): void => {
    for (const [listener, on] of live) if (on === channel) listener(channel, { [eid]: { m: { e: 0, eid } } })
  }
  return { store, publish, opened: () => opened, live: () => live.size }
}

const member = () => {
  const got: EncodedEvent[] = []
  return { got, live: (_eid: string, event: EncodedEvent) => void got.push(event) }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('ChannelFanOut', () => {
  it('opens one store subscription per channel and hands every member the same serialized event', async () => {
    const s = subscriptions()
    const fanOut = new ChannelFanOut(s.store, silentLogger)
    const a = member()
    const b = member()
    await fanOut.join('global', a)
    await fanOut.join('global', b)
    s.publish('global', 'x')
    expect(s.opened()).toBe(1)
    expect(a.got).toHaveLength(1)
    expect(b.got[0]).toBe(a.got[0])
  })

  it('ends the subscription when the last member leaves', async () => {
    const s = subscriptions()
    const fanOut = new ChannelFanOut(s.store, silentLogger)
    const a = member()
    const b = member()
    await fanOut.join('bot-1', a)
    await fanOut.join('bot-1', b)
    fanOut.leave('bot-1', a)
    await settle()
    expect(s.live()).toBe(1)
    fanOut.leave('bot-1', b)
    await settle()
    expect(s.live()).toBe(0)
  })

  it('keeps a join made in the same turn as the last leave subscribed', async () => {
    const s = subscriptions()
    const fanOut = new ChannelFanOut(s.store, silentLogger)
    const a = member()
    const b = member()
    await fanOut.join('bot-1', a)
    fanOut.leave('bot-1', a)
    await fanOut.join('bot-1', b)
    await settle()
    s.publish('bot-1', 'y')
    expect(b.got).toHaveLength(1)
    expect(a.got).toHaveLength(0)
  })

  it('delivers an event once to a member that joined in the turn the last one left, while the old subscription still ran', async () => {
    const s = subscriptions()
    const fanOut = new ChannelFanOut(s.store, silentLogger)
    const a = member()
    const b = member()
    await fanOut.join('bot-1', a)
    fanOut.leave('bot-1', a)
    const joining = fanOut.join('bot-1', b)
    // The old subscription ends a microtask later: an event published now reaches both.
    expect(s.live()).toBe(2)
    s.publish('bot-1', 'y')
    await joining
    await settle()
    expect(a.got).toHaveLength(0)
    expect(b.got).toHaveLength(1)
  })
})
