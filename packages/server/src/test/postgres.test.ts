// Tokens from the original's PostgreSQL tables, and what happens when PostgreSQL goes away.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { normalizeTs, RecordedBot, RecordedServer, startTestServer, TestClient } from './harness.js'
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

async function identifyWith(payload: Record<string, unknown>): Promise<{ frames: string[]; code: number | undefined }> {
  const client = await TestClient.open(server!.url)
  await client.next()
  client.send(JSON.stringify(payload))
  const reply = await Promise.race([client.next().catch(() => undefined), client.closed.then(() => undefined)])
  const closed = reply?.includes('"code":"ready"') === true ? (client.ws.terminate(), undefined) : await client.closed
  return { frames: reply === undefined ? [] : [normalizeTs(reply)], code: closed?.code }
}

describe('PostgreSQL tokens', () => {
  it('accepts bots and servers from their tables and rejects the rest with invalid_auth', async () => {
    await postgres.setIdentities([RecordedBot], [RecordedServer])
    server = await startTestServer({ postgres: postgres.url }, noBackend)
    const ok = await identifyWith({ id: RecordedBot.id, token: RecordedBot.token, bot: true })
    expect(ok.frames[0]).toContain('"code":"ready"')
    const guild = await identifyWith({ id: RecordedServer.id, token: RecordedServer.token, bot: false })
    expect(guild.frames[0]).toContain('"code":"ready"')
    const invalidAuth = '{"code":"invalid_auth","detail":"no rows in result set","ts":0,"requests_remaining":-1,"control":true}'
    for (const payload of [
      { id: RecordedBot.id, token: 'wrong', bot: true },
      { id: RecordedBot.id, token: RecordedBot.token, bot: false },
      { id: '123', token: RecordedBot.token, bot: true },
    ]) {
      expect(await identifyWith(payload)).toEqual({ frames: [invalidAuth], code: 4004 })
    }
  })

  it('treats a token with SQL in it as a plain value (parameterised queries)', async () => {
    await postgres.setIdentities([{ id: '5', token: "x' OR '1'='1" }], [])
    server = await startTestServer({ postgres: postgres.url }, noBackend)
    expect((await identifyWith({ id: '5', token: "x' OR '1'='1", bot: true })).frames[0]).toContain('"code":"ready"')
    expect((await identifyWith({ id: '5', token: "' OR '1'='1", bot: true })).code).toBe(4004)
  })

  it('refuses bots/servers options beside postgres, and an unreachable database, clearly', async () => {
    await expect(startTestServer({ postgres: postgres.url, bots: [RecordedBot] }, noBackend)).rejects.toThrow(
      /with postgres, the bots and servers tables decide/,
    )
    await expect(
      startTestServer({ postgres: 'postgres://u:hunter2@127.0.0.1:1/db' }, noBackend),
    ).rejects.toThrow(/^cannot use PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/db(?![^]*hunter2)/)
  })

  it('closes with 4500 instead of hanging while PostgreSQL is unreachable', async () => {
    await postgres.setIdentities([RecordedBot], [])
    server = await startTestServer({ postgres: postgres.url }, noBackend)
    expect((await identifyWith({ id: RecordedBot.id, token: RecordedBot.token, bot: true })).frames[0]).toContain('ready')
    // Terminating every session is what a database restart looks like to the pool.
    await postgres.terminateSessions()
    expect((await identifyWith({ id: RecordedBot.id, token: RecordedBot.token, bot: true })).frames[0]).toContain('ready')
    try {
      await postgres.pause()
      const started = Date.now()
      expect(await identifyWith({ id: RecordedBot.id, token: RecordedBot.token, bot: true })).toEqual({ frames: [], code: 4500 })
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      await postgres.resume()
    }
    expect((await identifyWith({ id: RecordedBot.id, token: RecordedBot.token, bot: true })).frames[0]).toContain('ready')
  })
})

// /healthz and fates_store_up with PostgreSQL tokens: while PostgreSQL is unreachable every
// identify is closed with 4500, so the instance is not ready for viewers.
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
