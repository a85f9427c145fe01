// A relay must not claim an exact resume across an upstream gap its origin could not fill (a review's finding, 2026-12-08).
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type PersistStore } from '@fates-rx/core'
import { startServer, type RunningServer } from '../start.js'
import { identified, quietFor, RecordedBot, segments, startTestServer, TestClient } from '../test/harness.js'

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

async function relayOf(origin: RunningServer, graceMs = 200): Promise<RunningServer> {
  const relay = await startServer({ host: '127.0.0.1', port: 0, bots: [{ id: RecordedBot.id, token: ViewerToken }], relay: { upstream: origin.url, bots: [RecordedBot], graceMs } })
  cleanups.push(() => relay.close())
  return relay
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
    await until('event 1', () => users(first).length === 1)
    const position = payloads(first).find((p) => p.code === 'event')?.dat?.m.pos
    await first.close()
    await until('the grace period to close the upstream', () => status(relay) === 'idle')

    // Published while nobody watched; the origin keeps only the last two.
    for (const user of ['2', '3', '4', '5']) await origin.publish(Channel, view(user))

    const returned = await TestClient.open(relay.url)
    cleanups.push(() => void returned.ws.terminate())
    await returned.next()
    returned.send(JSON.stringify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true, after: { [Channel]: position } }))
    await until('done_prior', () => payloads(returned).some((p) => p.code === 'done_prior'))
    // Events 2 and 3 are gone for good: the replay lacks them, so it must not be called exact
    // (a direct client of the origin resuming from the same point is told 'too-old').
    expect(users(returned)).toEqual(['4', '5'])
    expect(payloads(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).not.toBe('exact')
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
