// A subscription asked for while the channel's last listener is leaving must still deliver:
// the fan-out's leave unsubscribes a turn later, and a join in that turn reuses the entry.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { silentLogger } from '../log.js'
import { ChannelFanOut } from '../protocol/fan-out.js'
import { RedisStore } from '../stores/redis.js'
import { MemoryTokens } from '../stores/store.js'
import { startRedis, type RedisService } from './services.js'

let redis: RedisService
let store: RedisStore
beforeAll(async () => {
  redis = await startRedis()
  store = await RedisStore.connect({ url: redis.url, tokens: new MemoryTokens() })
})
afterAll(async () => {
  await store.close()
  await redis.stop()
})

const event = (eid: string) => ({ m: { e: 16, eid, ts: 1 }, ctx: { user: '1' } })

async function waitFor(got: readonly string[], count: number): Promise<void> {
  for (let i = 0; i < 100 && got.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

it('delivers to a subscribe made before the last listener’s unsubscribe has run', async () => {
  const got: string[] = []
  const unsubscribe = await store.subscribe('bot-1', () => {})
  const joining = store.subscribe('bot-1', (_channel, events) => got.push(...Object.keys(events)))
  await unsubscribe()
  await joining
  await store.publish('bot-1', 'e1', event('e1'))
  await waitFor(got, 1)
  expect(got).toEqual(['e1'])
})

it('keeps delivering to a connection that joins a channel in the turn another left it', async () => {
  const fanOut = new ChannelFanOut(store, silentLogger)
  const got: string[] = []
  const leaving = { live: () => {} }
  const joining = { live: (eid: string) => void got.push(eid) }
  await fanOut.join('bot-2', leaving)
  fanOut.leave('bot-2', leaving)
  await fanOut.join('bot-2', joining)
  await store.publish('bot-2', 'e2', event('e2'))
  await waitFor(got, 1)
  expect(got).toEqual(['e2'])
})
