import { filter, firstValueFrom, map, scan, takeWhile, timeout } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { CuttingProxy, ScriptedPeer } from '../../test-support/scripted-peer.js'
import type { FatesClient } from '../fates-client.js'
import type { ConnectOptions } from '../options.js'
import { liveClient, statusWhere } from '../../test-support/live-client.js'

// Fault tests over real sockets on loopback, against a scripted peer (see test-support).
const id = '811073947382579200'
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

const start = (options: Partial<ConnectOptions> & Pick<ConnectOptions, 'url'>) =>
  liveClient(cleanup, { id, token: 'testtoken', ...options })

const eventCount = (client: FatesClient, count: number, already: number, ms = 15_000) =>
  firstValueFrom(
    client.event$.pipe(
      scan((n) => n + 1, already),
      takeWhile((n) => n < count, true),
      filter((n) => n >= count),
      map(() => undefined),
      timeout(ms),
    ),
    { defaultValue: undefined },
  )

describe('connect() under faults, over real sockets', () => {
  it('delivers every published eid exactly once through repeated abrupt cuts', async () => {
    const peer = await ScriptedPeer.start()
    const proxy = await CuttingProxy.start(peer.port)
    cleanup.push(() => peer.close(), () => proxy.close())
    const { client, statuses, events } = start({ url: proxy.url, sendAll: true })
    await statusWhere(client, (s) => s.state === 'live')
    const total = 240
    for (let i = 0; i < total; i++) {
      peer.publish(`e${i}`, Date.now() / 1000)
      if (i % 60 === 59) proxy.cut()
      await pause(4)
    }
    if (events.length < total) await eventCount(client, total, events.length)
    const eids = events.map((e) => e.m.eid)
    expect(new Set(eids).size).toBe(eids.length)
    expect(eids.length).toBe(total)
    expect([...eids].sort()).toEqual(Array.from({ length: total }, (_, i) => `e${i}`).sort())
    const states = statuses.map((s) => s.state)
    const cuts = statuses.filter((s) => s.state === 'reconnecting' && s.close?.code === 1006)
    expect(cuts.length).toBeGreaterThanOrEqual(4)
    // Each reconnecting is followed, later, by live again.
    states.forEach((state, i) => {
      if (state === 'reconnecting') expect(states.slice(i).includes('live')).toBe(true)
    })
  })

  it('fails on a wrong token and makes no second attempt', async () => {
    const peer = await ScriptedPeer.start()
    cleanup.push(() => peer.close())
    const { client } = start({ url: peer.url, token: 'wrongtoken', backoff: { initialDelayMs: 5 } })
    const failed = await statusWhere(client, (s) => s.state === 'failed')
    expect(failed).toMatchObject({ close: { code: 4004 }, detail: 'invalid_auth: no rows in result set' })
    await pause(300)
    expect(peer.connections).toBe(1)
  })

  it('after 4012 does not identify again before the cooldown', async () => {
    const peer = await ScriptedPeer.start({ ratelimitFirst: 1 })
    cleanup.push(() => peer.close())
    const { client } = start({ url: peer.url, rateWindowMs: 700 })
    const waiting = await statusWhere(client, (s) => s.state === 'reconnecting')
    expect(waiting).toMatchObject({ close: { code: 4012 }, detail: expect.stringMatching(/ratelimited/) })
    await statusWhere(client, (s) => s.state === 'live')
    const [first, second] = peer.identifies
    expect(peer.identifies).toHaveLength(2)
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(680)
  })

  it('times out on a server that never sends identity, and retries', async () => {
    const peer = await ScriptedPeer.start({ silent: true })
    cleanup.push(() => peer.close())
    const { client } = start({ url: peer.url, identityTimeoutMs: 150 })
    const timedOut = await statusWhere(client, (s) => s.state === 'reconnecting')
    expect(timedOut.detail).toBe('No identity payload within 150 ms.')
    await statusWhere(client, (s) => s.state === 'connecting' && s.attempt === 1)
    await statusWhere(client, (s) => s.state === 'identifying' && s.attempt === 1)
    expect(peer.connections).toBeGreaterThanOrEqual(2)
  })

  it('survives a server restart in the middle of a replay, with every event once', async () => {
    const store = new Map<string, string>()
    const script = { replayBatch: 20, replayPauseMs: 15 }
    let peer = await ScriptedPeer.start(script, 0, store)
    const port = peer.port
    cleanup.push(() => peer.close())
    // History stored long before the client connects.
    for (let i = 0; i < 300; i++) peer.publish(`s${i}`, 1700000000 + i)
    const { client, events, statuses } = start({ url: peer.url, sendAll: true })
    await statusWhere(client, (s) => s.state === 'replaying')
    await pause(50)
    await peer.close()
    peer = await ScriptedPeer.start(script, port, store)
    await statusWhere(client, (s) => s.state === 'live')
    expect(statuses.some((s) => s.state === 'reconnecting')).toBe(true)
    expect(events.map((e) => e.m.eid).sort()).toEqual([...store.keys()].sort())
    expect(events.every((e) => e.prior === true)).toBe(true)
    // The part delivered after the restart is in m.ts order.
    const tail = events.slice(events.length - 100).map((e) => e.m.ts ?? 0)
    expect(tail).toEqual([...tail].sort((a, b) => a - b))
  })
})
