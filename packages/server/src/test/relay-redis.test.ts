// Two relays behind a load balancer, sharing one Redis: each holds its own upstream connection,
// and the eid (the history's idempotency key) keeps each event stored and delivered once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../start.js'
import { eventIds, quietFor, TestClient } from './harness.js'
import { startRedis, type RedisService } from './services.js'

const Bot = '811073947382579200'
const Upstream = { id: Bot, token: 'origin-token' }
const Viewer = { id: Bot, token: 'viewer-token' }

let redis: RedisService
const running: RunningServer[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  for (const server of running.reverse()) await server.close()
  await redis.stop()
})


describe('relays sharing a Redis', () => {
  it('deliver every event once to the viewers of both, one upstream identify each', async () => {
    const origin = await startServer({ port: 0, bots: [Upstream] })
    running.push(origin)
    const relays = await Promise.all(
      [0, 1].map(() => startServer({ port: 0, redis: redis.url, bots: [Viewer], relay: { upstream: origin.url, bots: [Upstream] } })),
    )
    running.push(...relays)
    const viewers = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const client = await TestClient.open(relays[i % 2]!.url)
        await client.next()
        expect(await client.identify({ id: Bot, token: Viewer.token, bot: true })).toContain('"code":"ready"')
        return client
      }),
    )
    for (let i = 0; i < 100 && relays.some((r) => r.upstreams()[0]?.status !== 'live'); i++) await quietFor(20)
    expect(relays.map((r) => r.upstreams()[0]?.status)).toEqual(['live', 'live'])

    const eids: string[] = []
    for (let i = 0; i < 20; i++) eids.push(await origin.publish(`bot-${Bot}`, { m: { e: 16 }, ctx: { user: String(i + 1), widget: false } }))
    for (let i = 0; i < 200 && viewers.some((v) => eventIds(v).length < 20); i++) await quietFor(20)
    await quietFor(200)
    for (const viewer of viewers) expect(eventIds(viewer)).toEqual(eids)
    expect(relays.map((r) => r.upstreams()[0]?.events)).toEqual([20, 20])
    expect(relays.map((r) => r.upstreams()[0]?.opened)).toEqual([1, 1])
    await Promise.all(viewers.map((v) => v.close()))
  })
})
