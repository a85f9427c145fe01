import { VirtualTimeScheduler } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { donePriorPayload, fakeWebSockets, fatesEvent, joinFrames, wrapEvent } from '../../testing/index.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import { type ConnectOptions, resolveOptions } from '../options.js'
import { createHub, type Hub } from './hub.js'
import { hubStep, initialHubState } from './hub-machine.js'
import { workerClient } from './port.js'
import type { WorkerPortLike } from './tab-support.js'

// A tab's port (port.ts) against a real hub (hub.ts) over ports whose messages the test may
// hold, each way, and fake upstream sockets: a quick resubscribe, batches in flight when it
// comes, and a quiet connection's metrics (a review's findings, each seen failing on the code
// before its fix).

const id = '811073947382579200'
const token = 'hub-welcome-token'
const vote = (votes: number) => wrapEvent(fatesEvent(0, { user: '563808552288780322', votes, test: false }, { eid: `v${votes}`, ts: 1_700_000_000 + votes }))
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
const until = async (done: () => boolean): Promise<void> => {
  const end = Date.now() + 5_000
  while (!done() && Date.now() < end) await settle()
  if (!done()) throw new Error('timed out')
}

beforeEach(() => vi.stubGlobal('navigator', {}))
afterEach(() => vi.unstubAllGlobals())

/** A MessagePort pair between a tab and `hub`: each way delivers in order, a task later, unless held. */
function line(hub: Hub) {
  const toHub = { held: false, queue: [] as unknown[] }
  const toTab = { held: false, queue: [] as unknown[] }
  const hubPort: WorkerPortLike = { postMessage: (message) => send(toTab, structuredClone(message), () => tabPort.onmessage), onmessage: null }
  const tabPort: WorkerPortLike = { postMessage: (message) => send(toHub, structuredClone(message), () => hubPort.onmessage), onmessage: null }
  type Handler = WorkerPortLike['onmessage']
  const targets = new Map<typeof toHub, () => Handler>()
  const send = (way: typeof toHub, data: unknown, to: () => Handler): void => {
    targets.set(way, to)
    if (way.held) way.queue.push(data)
    else setTimeout(() => to()?.({ data }), 0)
  }
  const release = (way: typeof toHub): void => {
    way.held = false
    const to = targets.get(way)
    for (const data of way.queue.splice(0)) setTimeout(() => to?.()?.({ data }), 0)
  }
  hub.connect(hubPort)
  return { worker: { port: tabPort }, toHub, toTab, release }
}

function tab(hub: Hub, options: Partial<ConnectOptions> = {}) {
  const wire = line(hub)
  const config = resolveOptions({ url: 'ws://hub.invalid/ws', id, token, resume: true, ...options })
  const none = () => {
    throw new Error('no fallback in this test')
  }
  const client = workerClient({ worker: () => wire.worker, digest: () => Promise.resolve('d1gest'), session: { getItem: () => null, setItem: () => undefined } }, config, none, none, new VirtualTimeScheduler())
  const events: ReceivedEvent[] = []
  const metrics: ConnectionMetrics[] = []
  let subscriptions: { unsubscribe(): void }[] = []
  const watch = (): void => {
    subscriptions = [client.event$.subscribe((e) => events.push(e)), client.metrics$.subscribe((m) => metrics.push(m))]
  }
  watch()
  return { wire, client, events, metrics, watch, eids: () => events.map((e) => e.m.eid), leave: () => subscriptions.forEach((s) => s.unsubscribe()) }
}

/** A hub, a first tab joined with sendAll, its upstream ready, and three events delivered. */
async function busyTarget(connect: Partial<ConnectOptions> = {}) {
  const fakes = fakeWebSockets()
  const hub = createHub({ connect: { WebSocket: fakes.WebSocket, metricsIntervalMs: 60_000, ...connect } })
  const first = tab(hub, { sendAll: true })
  await until(() => fakes.sockets.length === 1)
  fakes.last().handshake()
  // The replay has ended: what follows is live.
  fakes.last().frame(joinFrames(donePriorPayload()))
  fakes.last().frame(joinFrames(vote(1), vote(2), vote(3)))
  await until(() => first.events.length === 3)
  return { hub, fakes, first }
}

describe('workerClient with a hub: a tab that leaves and subscribes again at once', () => {
  it('takes only the welcome of its current join: with sendAll, the history once', async () => {
    const { hub, first } = await busyTarget()
    const tab2 = tab(hub, { sendAll: true, dedupeCapacity: 2 })
    tab2.wire.toHub.held = true
    await settle()
    // Its first join, its leave and its second join reach the hub together.
    tab2.leave()
    tab2.watch()
    await settle()
    tab2.wire.release(tab2.wire.toHub)
    await until(() => tab2.events.length >= 3)
    await settle()
    await settle()
    expect(tab2.eids()).toEqual(first.eids())
  })

  it('does not take the batches of its last join that reach it before its welcome: with sendAll, each event once', async () => {
    const { hub, fakes, first } = await busyTarget()
    const tab2 = tab(hub, { sendAll: true, dedupeCapacity: 2 })
    await until(() => tab2.events.length === 3)
    // An event is on its way to the tab when it leaves and subscribes again.
    tab2.wire.toTab.held = true
    fakes.last().frame(joinFrames(vote(4)))
    await settle()
    tab2.leave()
    const before = tab2.events.length
    tab2.watch()
    await settle()
    await settle()
    tab2.wire.release(tab2.wire.toTab)
    await until(() => first.events.length === 4)
    await settle()
    await settle()
    const again = tab2.eids().slice(before)
    expect(again.filter((eid) => eid === 'v4')).toHaveLength(1)
    expect([...again].sort()).toEqual(['v1', 'v2', 'v3', 'v4'])
  })
})

describe('workerClient with a hub: a welcome that comes once its join was left', () => {
  it('still answers that join: the next joining takes its own welcome and what follows', async () => {
    const { hub, fakes } = await busyTarget()
    const tab2 = tab(hub, { sendAll: true })
    tab2.wire.toTab.held = true
    await until(() => tab2.wire.toTab.queue.length > 0)
    // Closed before its welcome came, which comes while it is closed; then joined again.
    tab2.client.close()
    tab2.wire.release(tab2.wire.toTab)
    await settle()
    await settle()
    tab2.client.reconnect()
    await until(() => tab2.events.length >= 3)
    fakes.last().frame(joinFrames(vote(4)))
    await until(() => tab2.events.length >= 4)
    expect(tab2.eids()).toEqual(['v1', 'v2', 'v3', 'v4'])
  })
})

describe('workerClient with a hub: metrics$ of a tab that joins a quiet connection', () => {
  it("shows the upstream's current counts once welcomed, not zeros until its next frame", async () => {
    const { hub, first } = await busyTarget({ metricsIntervalMs: 5 })
    await until(() => first.metrics.at(-1)?.events === 3)
    // Quiet from here: no frame, so no publication.
    const late = tab(hub)
    await settle()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(late.metrics.at(-1)).toEqual(first.metrics.at(-1))
  })
})

describe('hubStep(): the counts a joining port is given', () => {
  it("posts a port the upstream's last counts after its welcome, and none before the upstream gave any", () => {
    const metrics: ConnectionMetrics = { frames: 3, bytes: 9, payloads: 3, events: 1, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }
    const join = { type: 'join', name: 'n', options: { url: 'ws://hub.invalid/ws', id, token } }
    const opened = hubStep(initialHubState, { type: 'message', port: '1', data: join })
    expect(opened.effects.filter((e) => e.type === 'post')).toEqual([{ type: 'post', ports: ['1'], message: { type: 'welcome', history: [] } }])
    const counted = hubStep(opened.state, { type: 'upstream', name: 'n', upstream: 1, item: ['metrics', metrics] }).state
    const joined = hubStep(counted, { type: 'message', port: '2', data: join })
    expect(joined.effects.filter((e) => e.type === 'post')).toEqual([
      { type: 'post', ports: ['2'], message: { type: 'welcome', history: [] } },
      { type: 'post', ports: ['2'], message: { type: 'out', items: [['metrics', metrics]] } },
    ])
  })
})
