// A relay restarted on a store that keeps its events (Redis): the first opening of its upstream
// resumes from the newest stored event, so what the origin published while no relay process
// held the upstream reaches a viewer resuming from before the restart, and is not skipped under
// an exact resume (a review's finding, 2026-12-08: it resumed from its own start).
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../start.js'
import { MemoryStore } from '../stores/memory.js'
import { payloadsOf, quietFor, RecordedBot, TestClient, until, usersOf } from '../test/harness.js'
import { startRedis, type RedisService } from '../test/services.js'

const Upstream = RecordedBot
const Viewer = { id: RecordedBot.id, token: 'viewer-token-public' }
const Channel = `bot-${RecordedBot.id}`

let redis: RedisService
const running: { close(): Promise<unknown> | void }[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.close()
  // Empty for the next case (the store holding only that case's channel's events).
  await redis.stop()
  await redis.restart()
})
afterAll(async () => {
  await redis.stop()
})

const relayOn = async (origin: RunningServer): Promise<RunningServer> => {
  const relay = await startServer({ host: '127.0.0.1', port: 0, redis: redis.url, bots: [Viewer], relay: { upstream: origin.url, bots: [Upstream] } })
  running.push(relay)
  return relay
}
const viewer = async (relay: RunningServer, channel: string, after?: string): Promise<TestClient> => {
  const client = await TestClient.open(relay.url)
  running.push({ close: () => void client.ws.terminate() })
  await client.next()
  client.send(JSON.stringify({ id: Viewer.id, token: Viewer.token, bot: true, send_all: true, ...(after === undefined ? {} : { after: { [channel]: after } }) }))
  return client
}

// Every upstream also carries `global`: a store holding only its events restores too (a review
// of the restore's first version, which read the target's channel alone).
it.each([[Channel], ['global']])('fetches, at its first opening, what the origin published on %s while the relay was down, and a resume from before gets it', async (channel) => {
  const origin = await startServer({ host: '127.0.0.1', port: 0, bots: [Upstream] })
  running.push(origin)
  const first = await relayOn(origin)
  const before = await viewer(first, channel)
  await until('live', () => first.upstreams()[0]?.status === 'live' && payloadsOf(before).some((p) => p.code === 'ready'))
  await origin.publish(channel, { m: { e: 16 }, ctx: { user: '1', widget: false } })
  await until('event 1', () => usersOf(before).length === 1)
  const position = payloadsOf(before).find((p) => p.code === 'event')?.dat?.m.pos
  expect(position).toBeDefined()
  await first.close()

  // Published while no relay runs, and over a second before the next one opens its upstream
  // (which once resumed from its own start, less a second).
  for (const user of ['2', '3']) await origin.publish(channel, { m: { e: 16 }, ctx: { user, widget: false } })
  await quietFor(1_500)

  const second = await relayOn(origin)
  const returned = await viewer(second, channel, position)
  await until('done_prior', () => payloadsOf(returned).some((p) => p.code === 'done_prior'))
  expect(usersOf(returned)).toEqual(['2', '3'])
  expect(payloadsOf(returned).find((p) => p.code === 'resume')?.channels?.[channel]).toBe('exact')
})

it('starts all the same when the store cannot say what it holds, and says so in the log', async () => {
  const store = new MemoryStore({ bots: [Viewer] })
  store.storedEvents = () => Promise.reject(new Error('the store is down'))
  const lines: string[] = []
  const logger = { info: (line: string) => lines.push(line), error: (line: string) => lines.push(line) }
  const origin = await startServer({ host: '127.0.0.1', port: 0, bots: [Upstream] })
  running.push(origin)
  const relay = await startServer({ host: '127.0.0.1', port: 0, store, logger, relay: { upstream: origin.url, bots: [Upstream] } })
  running.push(relay)
  expect(relay.upstreams()[0]?.status).toBe('idle')
  expect(lines.filter((line) => line.startsWith('relay: could not read the newest stored event'))).toEqual([
    `relay: could not read the newest stored event of global (the store is down): its upstream's first opening starts from now`,
    `relay: could not read the newest stored event of ${Channel} (the store is down): its upstream's first opening starts from now`,
  ])
})
