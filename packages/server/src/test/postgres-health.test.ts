// /healthz and fates_store_up with PostgreSQL tokens: while PostgreSQL is unreachable every
// identify is closed with 4500, so the instance is not ready for viewers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { RecordedBot, startTestServer } from './harness.js'
import { startPostgres, type PostgresService } from './services.js'

let postgres: PostgresService
let server: RunningServer | undefined
beforeAll(async () => {
  postgres = await startPostgres()
})
afterAll(async () => {
  await postgres.stop()
})
afterEach(async () => {
  await server?.close()
  server = undefined
})

const noBackend = { name: 'postgres', setup: async () => {}, teardown: async () => {}, prepare: async () => ({}) }
const adminToken = 'admin-token-for-health'

describe('GET /healthz with PostgreSQL tokens', () => {
  it('answers 503 while PostgreSQL is down, and 200 once it is back', async () => {
    await postgres.setIdentities([RecordedBot], [])
    server = await startTestServer({ postgres: postgres.url, adminToken }, noBackend)
    const base = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    await postgres.pause()
    try {
      const reply = await fetch(`${base}/healthz`)
      expect({ status: reply.status, text: await reply.text() }).toEqual({ status: 503, text: '{"status":"not ready"}' })
      const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text()
      expect(metrics).toContain('\nfates_store_up 0\n')
      expect(metrics).not.toContain(postgres.url)
    } finally {
      await postgres.resume()
    }
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await fetch(`${base}/healthz`)).status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(status).toBe(200)
  })
})
