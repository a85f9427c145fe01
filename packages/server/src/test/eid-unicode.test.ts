// Eids that are not well-formed Unicode (a lone surrogate, which JSON's \uXXXX escapes can
// carry) cannot survive Redis: it stores UTF-8, so every lone surrogate becomes U+FFFD and two
// different eids become one. Such an eid must be refused, not silently merged.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../start.js'
import { startRedis, type RedisService } from './services.js'

const adminToken = 'admin-token-for-eid-tests'
let redis: RedisService
let server: RunningServer
beforeAll(async () => {
  redis = await startRedis()
  server = await startServer({ port: 0, adminToken, redis: redis.url })
})
afterAll(async () => {
  await server.close()
  await redis.stop()
})

async function publish(eidJson: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}` },
    body: `{"channel":"global","event":{"m":{"e":19,"eid":${eidJson}},"ctx":{}}}`,
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

it('never takes one eid for another: an eid with a lone surrogate is refused with 400', async () => {
  const first = await publish('"a\\ud800"')
  const second = await publish('"a\\udfff"')
  // Before: 200 {"repeat": false}, then 200 {"repeat": true}: the second event was dropped as
  // a repeat of a different eid.
  expect(second.body.repeat).not.toBe(true)
  for (const answer of [first, second]) {
    expect(answer.status).toBe(400)
    expect(answer.body.error).toMatch(/^event: m\.eid must be well-formed Unicode/)
  }
})
