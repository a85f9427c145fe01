// A relay whose own store (Redis) goes away for longer than it retries a batch: the events the
// origin published meanwhile are fetched again from the origin once the store is back, not
// lost. Real parts: an origin server, a relay on a real Redis reached through a loopback proxy
// that makes Redis look down while it runs on, core's client as the viewer, and a raw one.
import { connect } from '@fates-rx/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../start.js'
import { eventIds, quietFor, TestClient } from './harness.js'
import { startRedis, type RedisService } from './services.js'
import { TcpProxy } from './tcp-proxy.js'

const Bot = '811073947382579200'
const Upstream = { id: Bot, token: 'origin-token' }
const Viewer = { id: Bot, token: 'viewer-token' }

let redis: RedisService
const running: { close(): Promise<void> }[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  for (const server of running.reverse()) await server.close()
  await redis.stop()
})


const debugLines: string[] = []
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms; the relay logged:\n${debugLines.join('\n')}`)
    await quietFor(20)
  }
}

describe('a relay whose store goes away', () => {
  it('fetches again from the origin what it could not store, relays it live once the store is back, and replays it to a viewer who asks', async () => {
    const origin = await startServer({ port: 0, bots: [Upstream] })
    running.push(origin)
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: redis.port })
    running.push(proxy)
    const lines = debugLines
    const logger = { info: (line: string) => void lines.push(line), error: (line: string) => void lines.push(line) }
    // A store retried for half a second, not a minute, so that the test is short.
    const relay: RunningServer = await startServer({ port: 0, redis: `redis://127.0.0.1:${proxy.port}`, bots: [Viewer], logger, relay: { upstream: origin.url, bots: [Upstream], storeGiveUpMs: 500 } })
    running.push(relay)
    // A viewer as an app has it: core's client, which reconnects and resumes by itself.
    const viewer = connect({ url: relay.url, id: Bot, token: Viewer.token })
    const seen: string[] = []
    const subscription = viewer.event$.subscribe((event) => void seen.push(event.m.eid as string))
    await until(() => relay.upstreams()[0]?.status === 'live')
    const before = await origin.publish(`bot-${Bot}`, { m: { e: 16 }, ctx: { user: '1', widget: false } })
    await until(() => seen.includes(before))

    // Redis looks down: the relay receives what the origin publishes, cannot store it, and
    // gives the batch up after half a second. (Losing Redis's pub/sub, the relay also closes its
    // viewers with 4500 so that they resume once it is back: nobody watches the upstream then,
    // so it closes, and the fresh client that fetches the batch again waits for a viewer.)
    proxy.down(true)
    const during = await origin.publish(`bot-${Bot}`, { m: { e: 16 }, ctx: { user: '2', widget: false } })
    await until(() => lines.some((line) => line.includes('to be fetched again from the upstream')))
    expect(seen).toEqual([before])
    proxy.down(false)

    // Back: the viewer's client returns, is held while a fresh upstream client fetches the
    // event again and the store keeps it, then resumes: it gets it, once.
    await until(() => seen.includes(during), 20_000)
    const after = await origin.publish(`bot-${Bot}`, { m: { e: 16 }, ctx: { user: '3', widget: false } })
    await until(() => seen.includes(after))
    expect(seen).toEqual([before, during, after])
    subscription.unsubscribe()

    // A viewer asking for the history now gets it whole, from the relay's store.
    const late = await TestClient.open(relay.url)
    await late.next()
    await late.identify({ id: Bot, token: Viewer.token, bot: true, send_all: true })
    await until(() => eventIds(late).length >= 3)
    expect(eventIds(late).sort()).toEqual([before, during, after].sort())
    await late.close()
  }, 60_000)
})
