// GET /metrics (Prometheus text, admin Bearer token) and GET /healthz (open, ready or not).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { identified, RecordedBot, redisBackend, startTestServer, TestClient } from './harness.js'

const adminToken = 'admin-token-for-observing'
let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`http://127.0.0.1:${server!.port}${path}`, { headers })
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() }
}
const scrape = () => get('/metrics', { authorization: `Bearer ${adminToken}` })

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('GET /metrics', () => {
  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer wrong-token' }],
  ])('answers 401 to %s, never with a token', async (_name, headers) => {
    server = await startTestServer({ adminToken })
    const reply = await get('/metrics', headers)
    expect(reply.status).toBe(401)
    expect(reply.text).not.toContain(adminToken)
  })

  it('counts identifies, closes, published, repeated and delivered events, publish latency and connections', async () => {
    server = await startTestServer({ adminToken })
    const { client } = await identified(server)
    const refused = await TestClient.open(server.url)
    await refused.next()
    refused.send(JSON.stringify({ id: RecordedBot.id, token: 'not-the-token', bot: true }))
    expect((await refused.closed).code).toBe(4004)
    const channel = `bot-${RecordedBot.id}`
    await server.publish(channel, { m: { e: 0, eid: 'one' }, ctx: { user: '1', votes: 1 } })
    await server.publish(channel, { m: { e: 0, eid: 'one' }, ctx: { user: '1', votes: 1 } })
    await client.next()

    const reply = await scrape()
    expect(reply.status).toBe(200)
    expect(reply.type).toMatch(/^text\/plain; version=0\.0\.4/)
    const { text } = reply
    expect(sample(text, 'fates_identifies_total{outcome="ready"}')).toBe(1)
    expect(sample(text, 'fates_identifies_total{outcome="invalid_auth"}')).toBe(1)
    expect(sample(text, 'fates_closes_total{code="4004"}')).toBe(1)
    expect(sample(text, 'fates_events_published_total')).toBe(1)
    expect(sample(text, 'fates_events_repeated_total')).toBe(1)
    expect(sample(text, 'fates_events_delivered_total')).toBe(1)
    expect(sample(text, 'fates_publish_duration_seconds_count')).toBe(2)
    expect(sample(text, 'fates_connections{state="ready"}')).toBe(1)
    expect(sample(text, 'fates_connections{state="waiting"}')).toBe(0)
    expect(sample(text, 'fates_store_up')).toBe(1)
    expect(sample(text, 'fates_store_errors_total')).toBe(0)
    for (const secret of [adminToken, RecordedBot.token, 'not-the-token']) expect(text).not.toContain(secret)
    client.ws.terminate()
  })
})

describe('GET /healthz', () => {
  it('answers 200 ready on the memory store, without a token, saying nothing else', async () => {
    server = await startTestServer({ adminToken })
    const reply = await get('/healthz')
    expect(reply).toMatchObject({ status: 200, text: '{"status":"ready"}' })
  })

  describe('on Redis', () => {
    const backend = redisBackend(false)
    beforeAll(() => backend.setup())
    afterAll(() => backend.teardown())

    it('answers 503 while Redis is down and 200 once it is back; metrics count the store down and its errors', async () => {
      server = await startTestServer({ adminToken }, backend)
      expect((await get('/healthz')).status).toBe(200)
      await backend.redis().stop()
      try {
        expect(await get('/healthz')).toMatchObject({ status: 503, text: '{"status":"not ready"}' })
        await expect(server.publish(`bot-${RecordedBot.id}`, { m: { e: 16 }, ctx: { user: '1' } })).rejects.toThrow()
        const { text } = await scrape()
        expect(sample(text, 'fates_store_up')).toBe(0)
        expect(sample(text, 'fates_store_errors_total')).toBe(1)
        expect(text).not.toContain(backend.redis().url)
      } finally {
        await backend.redis().restart()
      }
      let status = 0
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await get('/healthz')).status
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(status).toBe(200)
    })
  })
})
