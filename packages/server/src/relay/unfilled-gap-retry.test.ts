// A failed upstream's retry (client.reconnect(), liveSinceOpened reset) resumes a gap of the relay's store too (a review's finding, 2026-12-08).
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../start.js'
import { identified, quietFor, RecordedBot, segments, TestClient } from '../test/harness.js'

const ViewerToken = 'viewer-token-public'
const Channel = `bot-${RecordedBot.id}`
const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
const view = (user: string) => ({ m: { e: 16 }, ctx: { user, widget: false } })
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await quietFor(20)
  }
}
interface Payload {
  readonly code: string
  readonly channels?: Record<string, string>
  readonly dat?: { m: { pos?: string }; ctx: { user: string } }
}
const payloads = (c: TestClient): Payload[] => c.frames.flatMap((f) => segments(f).map((s) => JSON.parse(s) as Payload))
const users = (c: TestClient): string[] => payloads(c).flatMap((p) => (p.code === 'event' && p.dat !== undefined ? [p.dat.ctx.user] : []))
const status = (r: RunningServer): string | undefined => r.upstreams()[0]?.status
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('a relay whose failed upstream is retried across a gap its origin could not fill', () => {
  it('does not tell a returning viewer its resume is exact', async () => {
    const port = await freePort()
    const origin = (token: string) => startServer({ host: '127.0.0.1', port, history: 2, bots: [{ id: RecordedBot.id, token }] })
    let up = await origin(RecordedBot.token)
    const relay = await startServer({
      host: '127.0.0.1', port: 0, bots: [{ id: RecordedBot.id, token: ViewerToken }],
      relay: { upstream: `ws://127.0.0.1:${port}/ws`, bots: [RecordedBot], graceMs: 60_000, retryMs: 600_000, connect: { backoff: { initialDelayMs: 50, maxDelayMs: 100 } } },
    })
    cleanups.push(() => relay.close())
    const first = (await identified(relay, { token: ViewerToken, send_all: true })).client
    cleanups.push(() => void first.ws.terminate())
    await until('live', () => status(relay) === 'live')
    await up.publish(Channel, view('1'))
    await until('event 1', () => users(first).length === 1)
    const position = payloads(first).find((p) => p.code === 'event')?.dat?.m.pos
    // The origin goes away and comes back refusing the relay's token: the upstream fails.
    await up.close()
    up = await origin('another-token')
    await until('failed', () => status(relay) === 'failed')
    await up.close()
    // Fixed, but with a short history: events 2 and 3 are gone for good.
    up = await origin(RecordedBot.token)
    cleanups.push(() => up.close())
    for (const user of ['2', '3', '4', '5']) await up.publish(Channel, view(user))
    relay.retryUpstreams()
    await until('live again', () => status(relay) === 'live')
    await quietFor(300)

    const returned = await TestClient.open(relay.url)
    cleanups.push(() => void returned.ws.terminate())
    await returned.next()
    returned.send(JSON.stringify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true, after: { [Channel]: position } }))
    await until('done_prior', () => payloads(returned).some((p) => p.code === 'done_prior'))
    expect(users(returned)).toEqual(['4', '5'])
    expect(payloads(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).not.toBe('exact')
  })
})
