// A Redis that restarts from an older snapshot (RDB `save` points, the default outside these
// tests) has lost the last events and rolled its channels' offsets back: the offsets it stamps
// next name other events than the ones clients already hold at those offsets.
import { Redis } from 'ioredis'
import { parsePosition } from '@fates-rx/core/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { planReplay } from '../protocol/replay-plan.js'
import { RedisStore } from '../stores/redis.js'
import { MemoryTokens } from '../stores/store.js'
import { startRedis, type RedisService } from './services.js'

const channel = 'bot-811073947382579200'
const event = (n: number) => ({ m: { e: 16, eid: `ev-${n}`, ts: 1_700_000_000 + n }, ctx: { user: '1' } })
const posOf = (stored: Record<string, unknown>, eid: string) => parsePosition((stored[eid] as { m: { pos?: unknown } }).m.pos)

let redis: RedisService
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})

describe('RedisStore positions across a Redis restored from a snapshot', () => {
  it('never lets a client’s position from before the rollback resume "exactly" past events it never got', async () => {
    let store = await RedisStore.connect({ url: redis.url, tokens: new MemoryTokens() })
    for (let n = 1; n <= 3; n++) await store.publish(channel, `ev-${n}`, event(n))
    const admin = new Redis(redis.url)
    await admin.save()
    admin.disconnect()
    // Published after the snapshot: a client receives them live (ev-5 at offset 5), then Redis
    // restarts from the snapshot, and they are gone.
    for (let n = 4; n <= 5; n++) await store.publish(channel, `ev-${n}`, event(n))
    const mark = posOf(await store.storedEvents(channel), 'ev-5')
    expect(mark?.offset).toBe(5)
    await store.close()
    await redis.restart()
    store = await RedisStore.connect({ url: redis.url, tokens: new MemoryTokens() })
    try {
      // New events after the restart, which the client has not seen.
      for (let n = 6; n <= 8; n++) await store.publish(channel, `ev-${n}`, event(n))
      const head = await store.headOf!(channel)
      const stored = await store.storedEvents(channel)
      // The client resumes after its position: whatever the plan, it must get every event it missed.
      const plan = planReplay({ stored, after: mark, head, positioned: true })
      expect(plan.events.map(([eid]) => eid)).toEqual(expect.arrayContaining(['ev-6', 'ev-7', 'ev-8']))
      // And no position names two events: ev-7 is not at the client’s "<epoch>:5".
      expect(posOf(stored, 'ev-7')?.epoch === mark?.epoch && posOf(stored, 'ev-7')?.offset === mark?.offset).toBe(false)
    } finally {
      await store.close()
    }
  })
})
