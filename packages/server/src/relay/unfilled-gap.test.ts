// A relay must not claim an exact resume across an upstream gap its origin could not fill (a review's finding, 2026-12-08).
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type PersistStore } from '@fates-rx/core'
import { startServer, type RunningServer } from '../start.js'
import { identified, payloadsOf, quietFor, RecordedBot, startTestServer, TestClient, until, usersOf } from '../test/harness.js'
import { freePort } from '../test/services.js'

const ViewerToken = 'viewer-token-public'
const Channel = `bot-${RecordedBot.id}`
const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
const view = (user: string) => ({ m: { e: 16 }, ctx: { user, widget: false } })
const status = (r: RunningServer): string | undefined => r.upstreams()[0]?.status

async function relayOf(origin: RunningServer, graceMs = 200): Promise<RunningServer> {
  const relay = await startServer({ host: '127.0.0.1', port: 0, bots: [{ id: RecordedBot.id, token: ViewerToken }], relay: { upstream: origin.url, bots: [RecordedBot], graceMs } })
  cleanups.push(() => relay.close())
  return relay
}

/** A viewer back with `send_all` and `after` (the position it had), once its replay has ended. */
async function resumedAfter(relay: RunningServer, position: string | undefined): Promise<TestClient> {
  const returned = await TestClient.open(relay.url)
  cleanups.push(() => void returned.ws.terminate())
  await returned.next()
  returned.send(JSON.stringify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true, after: { [Channel]: position } }))
  await until('done_prior', () => payloadsOf(returned).some((p) => p.code === 'done_prior'))
  return returned
}

describe('a relay whose upstream could not fill its gap', () => {
  it('does not tell a returning viewer its resume after a grace-period close is exact when the origin no longer held the gap', async () => {
    const origin = await startTestServer({ history: 2 })
    cleanups.push(() => origin.close())
    const relay = await relayOf(origin)
    const first = (await identified(relay, { token: ViewerToken, send_all: true })).client
    cleanups.push(() => void first.ws.terminate())
    await until('live', () => status(relay) === 'live')
    await origin.publish(Channel, view('1'))
    await until('event 1', () => usersOf(first).length === 1)
    const position = payloadsOf(first).find((p) => p.code === 'event')?.dat?.m.pos
    await first.close()
    await until('the grace period to close the upstream', () => status(relay) === 'idle')

    // Published while nobody watched; the origin keeps only the last two.
    for (const user of ['2', '3', '4', '5']) await origin.publish(Channel, view(user))

    const returned = await resumedAfter(relay, position)
    // Events 2 and 3 are gone for good: the replay lacks them, so it must not be called exact
    // (a direct client of the origin resuming from the same point is told 'too-old').
    expect(usersOf(returned)).toEqual(['4', '5'])
    expect(payloadsOf(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).not.toBe('exact')
  })

  it("does not tell core's client (persist) the gap was filled after a reload past a grace-period close the origin could not fill", async () => {
    const origin = await startTestServer({ history: 2 })
    cleanups.push(() => origin.close())
    const relay = await relayOf(origin)
    const records = new Map<string, string>()
    const persist: PersistStore = { getItem: (k) => records.get(k), setItem: (k, v) => void records.set(k, v) }
    const page = () => {
      const seen: string[] = []
      const client = connect({ url: relay.url, id: RecordedBot.id, token: ViewerToken, persist })
      client.event$.subscribe((e) => seen.push(`event ${(e.ctx as { user?: string }).user ?? e.chan}`))
      client.status$.subscribe((s) => seen.push(`${s.state}${s.gap === undefined ? '' : ` gap=${s.gap}`}`))
      cleanups.push(() => client.close())
      return { client, seen }
    }
    const before = page()
    await until('live', () => status(relay) === 'live' && before.seen.includes('live'))
    await origin.publish('global', { m: { e: 19 }, ctx: {} })
    await origin.publish(Channel, view('1'))
    await until('event 1', () => before.seen.includes('event 1'))
    before.client.close()
    await until('idle', () => status(relay) === 'idle')
    for (const user of ['2', '3', '4', '5']) await origin.publish(Channel, view(user))
    const after = page()
    await until('live', () => after.seen.some((s) => s.startsWith('live')))
    expect(after.seen.filter((s) => s.startsWith('event'))).toEqual(['event 4', 'event 5'])
    expect(after.seen.filter((s) => s.startsWith('live'))).toEqual(['live gap=unknown'])
  })
})

// A failed upstream's retry (client.reconnect() on the same subscription, liveSinceOpened reset)
// resumes a gap of the relay's store too (a read of the session's change, 2026-12-08).
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
    await until('event 1', () => usersOf(first).length === 1)
    const position = payloadsOf(first).find((p) => p.code === 'event')?.dat?.m.pos
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

    const returned = await resumedAfter(relay, position)
    expect(usersOf(returned)).toEqual(['4', '5'])
    expect(payloadsOf(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).not.toBe('exact')
  })
})
