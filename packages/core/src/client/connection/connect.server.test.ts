import { MemoryStore, startServer, type RunningServer } from '@fates-rx/server'
import { filter, firstValueFrom, startWith, timeout } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { CuttingProxy } from '../../test-support/scripted-peer.js'
import type { FatesClient } from '../fates-client.js'
import type { ConnectOptions } from '../options.js'
import { liveClient, statusWhere } from '../../test-support/live-client.js'

// End-to-end fault tests against the real @fates-rx/server on loopback.
// @fates-rx/server is a dev dependency of the workspace root, not of @fates-rx/core: the server
// depends on the core, and a test-only edge back would make the package graph a cycle. This
// import resolves through the root's node_modules, which only a checkout of the whole
// workspace has, the one place this test runs.
const id = '811073947382579200'
const token = 'e2e-token'
const channel = `bot-${id}`
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  const bots = options.store === undefined ? { bots: [{ id, token }] } : {}
  const running = await startServer({ port: 0, ...bots, adminToken: 'admin-e2e', donePriorDelayMs: 50, ...options })
  cleanup.push(() => running.close())
  return running
}

const start = (options: Partial<ConnectOptions> & Pick<ConnectOptions, 'url'>) =>
  liveClient(cleanup, { id, token: token, ...options })

// Without a ts the server stamps the event with its own clock, as it does real producers' events.
const vote = (i: number, ts?: number) => ({
  m: { e: 0, t: -1, ...(ts === undefined ? {} : { ts }) },
  ctx: { user: '563808552288780322', votes: i, test: false },
})

// Resolves once the harness's own subscription has collected `count` events.
async function allArrived(client: FatesClient, events: ReceivedEvent[], count: number, ms = 15_000): Promise<void> {
  if (events.length >= count) return
  await firstValueFrom(client.event$.pipe(filter(() => events.length >= count), timeout(ms)))
}

describe('connect() against @fates-rx/server under faults', () => {
  it('delivers every published eid exactly once while connections are cut abruptly', async () => {
    const running = await server()
    const proxy = await CuttingProxy.start(running.port)
    cleanup.push(() => proxy.close())
    const { client, statuses, events } = start({ url: proxy.url, sendAll: true })
    await statusWhere(client, (s) => s.state === 'live')
    const published: string[] = []
    for (let i = 0; i < 200; i++) {
      published.push(await running.publish(channel, vote(i)))
      if (i % 50 === 49) proxy.cut()
      await pause(5)
    }
    await allArrived(client, events, published.length)
    await pause(100) // late duplicates would show up here
    const eids = events.map((e) => e.m.eid)
    expect(eids.length).toBe(published.length)
    expect([...eids].sort()).toEqual([...published].sort())
    const drops = statuses.filter((s) => s.state === 'reconnecting')
    expect(drops.length).toBeGreaterThanOrEqual(4)
    expect(drops.every((s) => s.close?.code === 1006)).toBe(true)
    expect(statuses.at(-1)?.state).toBe('live')
  })

  it('resumes every gap without sendAll: of events published at a steady rate through 4 cuts, each one after the first live arrives once, none from before', async () => {
    const running = await server()
    const proxy = await CuttingProxy.start(running.port)
    cleanup.push(() => proxy.close())
    // One publisher at a steady rate for the whole test; each event noted with the client's
    // phase when its publish began.
    type Phase = 'before' | 'handshake' | 'after-live'
    let phase: Phase = 'before'
    let publishing = true
    const published: { eid: string; phase: Phase }[] = []
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const at = phase
        published.push({ eid: await running.publish(channel, vote(i)), phase: at })
        await pause(5)
      }
    })()
    cleanup.push(() => {
      publishing = false
      return publisher
    })
    await pause(150)
    phase = 'handshake'
    const { client, statuses, events } = start({ url: proxy.url })
    await statusWhere(client, (s) => s.state === 'live')
    phase = 'after-live'
    for (let cut = 0; cut < 4; cut++) {
      await pause(150)
      await statusWhere(client, (s) => s.state === 'live')
      proxy.cut()
    }
    await pause(200)
    await statusWhere(client, (s) => s.state === 'live')
    publishing = false
    await publisher
    const wanted = published.filter((p) => p.phase === 'after-live').map((p) => p.eid)
    const received = new Set<string>()
    await firstValueFrom(
      client.event$.pipe(
        startWith(undefined),
        filter(() => {
          for (const event of events) received.add(event.m.eid ?? '')
          return wanted.every((eid) => received.has(eid))
        }),
        timeout(15_000),
      ),
    )
    await pause(100) // late duplicates would show up here
    const eids = events.map((e) => e.m.eid ?? '')
    expect(new Set(eids).size).toBe(eids.length)
    expect(wanted.filter((eid) => !eids.includes(eid))).toEqual([])
    const before = new Set(published.filter((p) => p.phase === 'before').map((p) => p.eid))
    expect(before.size).toBeGreaterThan(10)
    expect(eids.filter((eid) => before.has(eid))).toEqual([])
    expect(eids.every((eid) => published.some((p) => p.eid === eid))).toBe(true)
    // The cuts made gaps, and the replays filled them.
    const drops = statuses.filter((s) => s.state === 'reconnecting')
    expect(drops.length).toBeGreaterThanOrEqual(4)
    expect(drops.every((s) => s.close?.code === 1006)).toBe(true)
    expect(statuses.filter((s) => s.state === 'replaying' && /gap/.test(s.detail ?? '')).length).toBeGreaterThanOrEqual(4)
    expect(events.filter((e) => e.resumed === true).length).toBeGreaterThan(0)
    expect(events.some((e) => e.prior === true)).toBe(false)
  })

  it('fails on a wrong token and makes no second attempt', async () => {
    const running = await server()
    const proxy = await CuttingProxy.start(running.port)
    cleanup.push(() => proxy.close())
    const { client } = start({ url: proxy.url, token: 'not-the-token', backoff: { initialDelayMs: 5 } })
    const failed = await statusWhere(client, (s) => s.state === 'failed')
    expect(failed.close?.code).toBe(4004)
    expect(failed.detail).toMatch(/^invalid_auth|rejected/)
    expect(JSON.stringify(failed)).not.toContain('not-the-token')
    // Any retry would come within a few backoff delays of 5 ms.
    await pause(300)
    expect(proxy.connections).toBe(1)
  })

  it('after 4012 does not identify before the cooldown', async () => {
    const running = await server({ rateLimit: 2, rateWindowMs: 800 })
    const first = start({ url: running.url })
    await statusWhere(first.client, (s) => s.state === 'live')
    // The budget is spent by the first client; a second identify is ratelimited.
    const second = start({ url: running.url, rateWindowMs: 800 })
    const waiting = await statusWhere(second.client, (s) => s.state === 'reconnecting')
    const at = Date.now()
    expect(waiting.close?.code).toBe(4012)
    await statusWhere(second.client, (s) => s.state === 'connecting' && s.since > waiting.since)
    expect(Date.now() - at).toBeGreaterThanOrEqual(700)
  })

  it('survives a server restart during a replay, with every event once', async () => {
    const store = new MemoryStore({ bots: [{ id, token }], maxStoredPerChannel: 5000 })
    cleanup.push(() => store.close())
    let running = await server({ store, donePriorDelayMs: 300 })
    const port = running.port
    const published: string[] = []
    // History stored long before the client connects.
    for (let i = 0; i < 500; i++) published.push(await running.publish(channel, vote(i, 1_700_000_000 + i / 1000)))
    const { client, events, statuses } = start({ url: running.url, sendAll: true })
    await statusWhere(client, (s) => s.state === 'replaying')
    await running.close()
    running = await server({ store, port, donePriorDelayMs: 50 })
    await statusWhere(client, (s) => s.state === 'live')
    expect(statuses.some((s) => s.state === 'reconnecting' && s.close?.code === 1001)).toBe(true)
    expect(events.map((e) => e.m.eid).sort()).toEqual([...published].sort())
    expect(events.every((e) => e.prior === true)).toBe(true)
  })
})
