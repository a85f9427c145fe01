// Every gap filled, exactly once, in order: a TCP proxy between the clients and the origin cuts
// the socket mid-stream three times while a producer publishes bursts whose events share one
// millisecond (eids random, so their order says nothing). Through a relay (its upstream socket
// is the one cut) and for a direct connect(), every event arrives once, in publish order.
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type ControlPayload, type FatesClient } from '@fates-rx/core'
import { RelayControlCode, ResumeCode } from '@fates-rx/core/protocol'
import { LiveDetail } from '../relay/upstream-status.js'
import type { RunningServer } from '../start.js'
import { quietFor, startTestServer } from './harness.js'
import { TcpProxy } from './tcp-proxy.js'

const BotId = '811073947382579200'
const UpstreamToken = 'gap-upstream-secret-51c0'
const ViewerToken = 'gap-viewer-token'
const Channel = `bot-${BotId}`
/** Short waits, so that the three gaps fit a test (core's defaults are for people). */
const Fast = { backoff: { initialDelayMs: 40, maxDelayMs: 200 } } as const

const cleanup: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo()
})

/** Resolves once `check` holds, polling; fails after `timeoutMs`. */
async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await quietFor(20)
  }
}

/** A core client and what it received. */
function watch(client: FatesClient): { eids: string[]; controls: ControlPayload[]; live: () => boolean } {
  const eids: string[] = []
  const controls: ControlPayload[] = []
  let state = ''
  client.event$.subscribe((event) => eids.push(event.m.eid ?? ''))
  client.control$.subscribe((payload) => controls.push(payload))
  client.status$.subscribe((status) => (state = status.state))
  cleanup.push(() => client.close())
  return { eids, controls, live: () => state === 'live' }
}

/**
 * Publishes `bursts` bursts of `size` events, 50 ms apart, each burst's events stamped with one
 * millisecond and random eids. At each burst of `cutAt`, half the burst is published, the
 * socket cut once the clients hold it, then the other half: the gap's first events tie with
 * the last one delivered before it. Resolves to the eids in publish order.
 */
async function produce(origin: RunningServer, proxy: TcpProxy, bursts: number, size: number, cutAt: ReadonlySet<number>, settled: (count: number) => Promise<void>): Promise<string[]> {
  const published: string[] = []
  const send = async (eids: readonly string[], ts: number): Promise<void> => {
    for (const [i, eid] of eids.entries()) {
      await origin.publish(Channel, { m: { e: 16, eid, ts }, ctx: { user: String(i + 1), widget: false } })
      published.push(eid)
    }
  }
  for (let burst = 0; burst < bursts; burst++) {
    const ts = Math.round(Date.now()) / 1000
    const eids = Array.from({ length: size }, () => randomUUID())
    if (cutAt.has(burst)) {
      await send(eids.slice(0, size / 2), ts)
      await settled(published.length)
      expect(proxy.cut()).toBeGreaterThan(0)
      await send(eids.slice(size / 2), ts)
    } else {
      await send(eids, ts)
    }
    await quietFor(50)
  }
  return published
}

/** Exact recovery by positions (the default), and the m.ts rule alone (as against the original). */
const Modes = [
  ['positions: exact recovery', true],
  ['no positions: the m.ts rule', false],
] as const

const AdminToken = 'gap-admin-token'

/** The origin's count of channels resumed exactly (`fates_resumes_total{exact="true"}`), if any. */
async function exactResumes(origin: RunningServer): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${origin.port}/metrics`, { headers: { authorization: `Bearer ${AdminToken}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith('fates_resumes_total{exact="true"} '))
  return line === undefined ? undefined : Number(line.split(' ')[1])
}

describe('gaps filled exactly once, in order, ties included (a TCP proxy cuts the socket 3 times)', () => {
  it.each(Modes)('through a relay: every viewer gets every event once, in publish order, and upstream_live says filled (%s)', async (_mode, positions) => {
    const origin = await startTestServer({ bots: [{ id: BotId, token: UpstreamToken }], servers: [], donePriorDelayMs: 20, positions, adminToken: AdminToken })
    cleanup.push(() => origin.close())
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(origin.url).port) })
    cleanup.push(() => proxy.close())
    const relay = await startTestServer({
      bots: [{ id: BotId, token: ViewerToken }],
      servers: [],
      donePriorDelayMs: 20,
      relay: { upstream: `ws://127.0.0.1:${proxy.port}/ws`, bots: [{ id: BotId, token: UpstreamToken }], connect: Fast },
    })
    cleanup.push(() => relay.close())
    const viewers = Array.from({ length: 5 }, () => watch(connect({ url: relay.url, id: BotId, token: ViewerToken, ...Fast })))
    const upstreamLive = (v: (typeof viewers)[number]): number => v.controls.filter((c) => c.code === RelayControlCode.UpstreamLive).length
    await until('the viewers and the upstream to be live', () => viewers.every((v) => v.live() && upstreamLive(v) >= 1))

    const published = await produce(origin, proxy, 40, 6, new Set([8, 18, 28]), (count) =>
      until('the viewers to hold the half burst', () => viewers.every((v) => v.eids.length === count)),
    )
    await until('every viewer to have every event', () => viewers.every((v) => v.eids.length >= published.length))
    await quietFor(300)
    for (const v of viewers) {
      expect(v.eids).toEqual(published)
      // Told of each gap, and that it was filled (its replay reached back to the mark).
      const told = v.controls.filter((c) => c.code === RelayControlCode.UpstreamLive).slice(1)
      expect(told.map((c) => c.detail)).toEqual([LiveDetail.filled, LiveDetail.filled, LiveDetail.filled])
    }
    expect(proxy.accepted).toBe(4)
    // The relay's core client resumed from the origin after its positions, exactly, each time.
    expect(await exactResumes(origin)).toBe(positions ? 3 : undefined)
  })

  it.each(Modes)('a direct connect(): every event once, in publish order, each gap said filled (%s)', async (_mode, positions) => {
    const origin = await startTestServer({ bots: [{ id: BotId, token: UpstreamToken }], servers: [], donePriorDelayMs: 20, positions, adminToken: AdminToken })
    cleanup.push(() => origin.close())
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(origin.url).port) })
    cleanup.push(() => proxy.close())
    const client = connect({ url: `ws://127.0.0.1:${proxy.port}/ws`, id: BotId, token: UpstreamToken, ...Fast })
    const gaps: (string | undefined)[] = []
    client.status$.subscribe((s) => {
      if (s.state === 'live' && s.gap !== undefined) gaps.push(s.gap)
    })
    const direct = watch(client)
    await until('the client to be live', direct.live)

    const published = await produce(origin, proxy, 40, 6, new Set([8, 18, 28]), (count) =>
      until('the client to hold the half burst', () => direct.eids.length === count),
    )
    await until('every event', () => direct.eids.length >= published.length)
    await quietFor(300)
    expect(direct.eids).toEqual(published)
    expect(gaps).toEqual(['filled', 'filled', 'filled'])
    expect(proxy.accepted).toBe(4)
    // With positions, each reconnect asked for what followed its last event and got exactly that.
    const resumes = direct.controls.filter((c) => c.code === ResumeCode)
    expect(resumes.map((c) => (c as { channels?: Record<string, string> }).channels?.[Channel])).toEqual(positions ? ['exact', 'exact', 'exact'] : [])
    expect(await exactResumes(origin)).toBe(positions ? 3 : undefined)
  })

  it.each(Modes)('a gap event stamped before the last one delivered (a producer’s clock behind): exact recovery delivers it (%s)', async (_mode, positions) => {
    const origin = await startTestServer({ bots: [{ id: BotId, token: UpstreamToken }], servers: [], donePriorDelayMs: 20, positions })
    cleanup.push(() => origin.close())
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(origin.url).port) })
    cleanup.push(() => proxy.close())
    const client = connect({ url: `ws://127.0.0.1:${proxy.port}/ws`, id: BotId, token: UpstreamToken, ...Fast })
    const gaps: (string | undefined)[] = []
    client.status$.subscribe((s) => {
      if (s.state === 'live' && s.gap !== undefined) gaps.push(s.gap)
    })
    const direct = watch(client)
    await until('the client to be live', direct.live)
    const now = Date.now() / 1000
    await origin.publish(Channel, { m: { e: 16, eid: 'before', ts: now }, ctx: { user: '1', widget: false } })
    await until('the first event', () => direct.eids.length === 1)
    expect(proxy.cut()).toBeGreaterThan(0)
    // Published in the gap, stamped an hour earlier than the event delivered before it.
    await origin.publish(Channel, { m: { e: 16, eid: 'late-clock', ts: now - 3600 }, ctx: { user: '2', widget: false } })
    await origin.publish(Channel, { m: { e: 16, eid: 'after', ts: now + 1 }, ctx: { user: '3', widget: false } })
    await until('the later event', () => direct.eids.includes('after'))
    await quietFor(200)
    // The m.ts rule takes it for one already seen; the position knows it was not.
    expect(direct.eids).toEqual(positions ? ['before', 'late-clock', 'after'] : ['before', 'after'])
    expect(gaps).toEqual(['filled'])
  })

  it("a relay viewer's send_all gets the origin's history, as a direct client would; a viewer without it is not sent it live", async () => {
    const origin = await startTestServer({ bots: [{ id: BotId, token: UpstreamToken }], servers: [], donePriorDelayMs: 20 })
    cleanup.push(() => origin.close())
    const before = Array.from({ length: 5 }, (_, i) => `before-relay-${i}`)
    for (const [i, eid] of before.entries()) await origin.publish(Channel, { m: { e: 16, eid, ts: 1_700_000_000 + i }, ctx: { user: '1', widget: false } })
    const relay = await startTestServer({
      bots: [{ id: BotId, token: ViewerToken }],
      servers: [],
      donePriorDelayMs: 20,
      history: 3,
      relay: { upstream: origin.url, bots: [{ id: BotId, token: UpstreamToken }], connect: Fast },
    })
    cleanup.push(() => relay.close())
    const first = watch(connect({ url: relay.url, id: BotId, token: ViewerToken, ...Fast }))
    await until('the first viewer and the upstream to be live', () => first.live() && first.controls.some((c) => c.code === RelayControlCode.UpstreamLive))
    await quietFor(100)
    expect(first.eids).toEqual([])
    const replay = connect({ url: relay.url, id: BotId, token: ViewerToken, sendAll: true, ...Fast })
    const prior: boolean[] = []
    replay.event$.subscribe((e) => prior.push(e.prior === true))
    const second = watch(replay)
    await until('the replay', second.live)
    // The relay keeps the newest `history` of them, as the origin's own history is bounded.
    expect(second.eids).toEqual(before.slice(-3))
    expect(prior).toEqual([true, true, true])
  })
})
