import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import NodeWebSocket from 'isomorphic-ws'
import { type RunningServer, startServer } from '@fates-rx/server'
import { filter, firstValueFrom, timeout } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { memoryBrowser } from '../../testing/index.js'
import { connect, type FatesClient } from '../connection/connect.js'
import { createHub, type Hub } from './hub.js'
import type { ConnectOptions } from '../options.js'
import type { ConnectionStatus } from '../connection/status.js'
import type { SharedWorkerLike, WorkerSharing } from './tab-support.js'

// The tab's side of shareAcrossTabs: { worker } against a real hub (hub.ts, as startHub runs
// it in a SharedWorker) over real MessageChannels, and the real server on loopback: what a
// browser does, without the browser. Upstream connections are counted at the server.
await import('./port.js')
await import('./tabs.js')

const id = '811073947382579200'
const token = 'worker-secret-token'
const channel = `bot-${id}`
const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

async function server(): Promise<RunningServer & { identified(): Promise<number>; open(): number }> {
  const running = await startServer({ host: '127.0.0.1', port: 0, bots: [{ id, token }], adminToken: 'admin-worker' })
  cleanup.push(() => running.close())
  const identified = async (): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${running.port}/metrics`, { headers: { authorization: 'Bearer admin-worker' } })).text()
    const line = text.split('\n').find((l) => l.startsWith('fates_identifies_total{outcome="ready"} '))
    return line === undefined ? 0 : Number(line.split(' ')[1])
  }
  const open = (): number => Object.values(running.server.connectionStates()).reduce((a: number, b) => a + (b as number), 0)
  return Object.assign(running, { identified, open })
}

/** A worker: every `SharedWorker` made is a new port of the same hub, as a browser's are. */
function worker(hub: Hub): { make: () => SharedWorkerLike; posted: unknown[]; received: unknown[] } {
  const posted: unknown[] = []
  const received: unknown[] = []
  const make = (): SharedWorkerLike => {
    const { port1, port2 } = new MessageChannel()
    const hubPort: Parameters<Hub['connect']>[0] = {
      postMessage: (message) => {
        received.push(message)
        port1.postMessage(message)
      },
      onmessage: null,
    }
    // As a browser's port: messages wait until the hub starts it (sets onmessage).
    const early: unknown[] = []
    hubPort.start = () => {
      for (const data of early.splice(0)) hubPort.onmessage?.({ data })
    }
    port1.on('message', (data: unknown) => (hubPort.onmessage === null ? early.push(data) : hubPort.onmessage({ data })))
    hub.connect(hubPort)
    cleanup.push(() => {
      port1.close()
      port2.close()
    })
    const tab: MessagePort = port2
    const port: SharedWorkerLike['port'] = {
      postMessage: (message: unknown) => {
        posted.push(message)
        tab.postMessage(message)
      },
      onmessage: null,
    }
    // Node's port: its 'message' listener (which starts it) calls the browser-style handler.
    tab.on('message', (data: unknown) => port.onmessage?.({ data }))
    return { port }
  }
  return { make, posted, received }
}

function session(): NonNullable<WorkerSharing['session']> & { map: Map<string, string> } {
  const map = new Map<string, string>()
  return { map, getItem: (key) => map.get(key) ?? null, setItem: (key, value) => void map.set(key, value) }
}

function tab(url: string, sharing: WorkerSharing, extra: Partial<ConnectOptions> = {}) {
  const client = connect({ url, id, token, shareAcrossTabs: sharing, backoff: { initialDelayMs: 20, maxDelayMs: 100 }, ...extra })
  const statuses: ConnectionStatus[] = []
  const events: ReceivedEvent[] = []
  const subscriptions = [client.status$.subscribe((s) => statuses.push(s)), client.event$.subscribe((e) => events.push(e))]
  const leave = (): void => subscriptions.forEach((s) => s.unsubscribe())
  cleanup.push(leave)
  return { client, statuses, events, leave, eids: () => events.map((e) => e.m.eid) }
}

const statusWhere = (client: FatesClient, test: (s: ConnectionStatus) => boolean, ms = 10_000) =>
  firstValueFrom(client.status$.pipe(filter(test), timeout(ms)))
const until = async (done: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
const vote = (i: number) => ({ m: { e: 0, t: -1 }, ctx: { user: '563808552288780322', votes: i, test: false } })

describe('connect({ shareAcrossTabs: { worker } }) against a hub and the real server', () => {
  it('serves three tabs through one upstream connection (one identify), every event once to each, and closes it with the last tab', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const hub = createHub({ locks: browser.tab().environment.locks })
    const shared = worker(hub)
    const tabs = [0, 1, 2].map(() => tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() }))
    for (const t of tabs) await statusWhere(t.client, (s) => s.state === 'live' && s.tabs?.count === 3)
    for (const t of tabs) expect(t.statuses.at(-1)?.tabs).toEqual({ role: 'worker', count: 3 })

    const eids: string[] = []
    for (let i = 0; i < 5; i++) eids.push(await running.publish(channel, vote(i)))
    for (const t of tabs) await until(() => t.events.length >= 5)
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const t of tabs) expect(t.eids()).toEqual(eids)
    expect(await running.identified()).toBe(1)
    expect(running.open()).toBe(1)

    // The token went down the ports only, in each tab's join.
    const joins = shared.posted.filter((m) => (m as { type?: string }).type === 'join')
    expect(joins).toHaveLength(3)

    for (const t of tabs) t.leave()
    await until(() => running.open() === 0)
  })

  it('a tab that reloads while another is open costs no identify and gets what it missed, once, resumed', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const hub = createHub({ locks: browser.tab().environment.locks })
    const shared = worker(hub)
    const stays = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() })
    const store = session()
    const first = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: store })
    await statusWhere(first.client, (s) => s.state === 'live' && s.tabs?.count === 2)
    const before = await running.publish(channel, vote(1))
    await until(() => first.events.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    first.leave()

    const during = await running.publish(channel, vote(2))
    // Delivered to the hub before the reloaded tab joins: it must come from the hub's memory.
    await until(() => stays.events.length === 2)
    const again = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: store })
    await until(() => again.events.length === 1)
    const after = await running.publish(channel, vote(3))
    await until(() => again.events.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(again.eids()).toEqual([during, after])
    expect(again.events[0]?.resumed).toBe(true)
    expect(stays.eids()).toEqual([before, during, after])
    expect(await running.identified()).toBe(1)
  })

  it('with sendAll, gives a tab that joins later the history (the prior events and what followed), as the election does: one identify', async () => {
    const running = await server()
    const prior = await running.publish(channel, vote(1))
    const browser = memoryBrowser()
    const hub = createHub({ locks: browser.tab().environment.locks })
    const shared = worker(hub)
    const first = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() }, { sendAll: true })
    await until(() => first.events.length === 1)
    const live = await running.publish(channel, vote(2))
    await until(() => first.events.length === 2)
    const late = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() }, { sendAll: true })
    await until(() => late.events.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(late.eids()).toEqual([prior, live])
    expect(late.events.map((e) => e.prior === true)).toEqual([true, false])
    expect(await running.identified()).toBe(1)
  })

  it('serves no port before the hub holds its lock: a tab that asks for it first would take the worker for dead and join again (a second identify)', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const locks = browser.tab().environment.locks
    // The hub's request reaches the lock manager late, as a worker's first one can in Chromium.
    const late: typeof locks = { ...locks, request: (name, options, callback) => new Promise((resolve) => setTimeout(resolve, 100)).then(() => locks.request(name, options, callback)) }
    const hub = createHub({ locks: late })
    const shared = worker(hub)
    const t = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() })
    await statusWhere(t.client, (s) => s.state === 'live')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(shared.posted.filter((message) => (message as { type?: string }).type === 'join')).toHaveLength(1)
    expect(await running.identified()).toBe(1)
    expect(t.statuses.at(-1)?.detail ?? '').not.toMatch(/Resuming/)
  })

  it('serves its ports without a lock when the browser refuses it one, and names none in its welcome', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const locks = browser.tab().environment.locks
    const refusing: typeof locks = { ...locks, request: () => Promise.reject(new Error('no lock manager')) }
    const shared = worker(createHub({ locks: refusing }))
    const t = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() })
    await statusWhere(t.client, (s) => s.state === 'live')
    const welcomes = shared.received.filter((message) => (message as { type?: string }).type === 'welcome')
    expect(welcomes).toHaveLength(1)
    expect(welcomes[0]).not.toHaveProperty('lock')
    expect(await running.identified()).toBe(1)
  })

  it('with persist, the worker’s connection starts from the tab’s record and the tab stores every write (the ledger counts the identify), never the token', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const hub = createHub({ locks: browser.tab().environment.locks })
    const shared = worker(hub)
    const records = new Map<string, string>()
    const persist = { getItem: (key: string) => records.get(key) ?? null, setItem: (key: string, value: string) => void records.set(key, value) }
    const t = tab(running.url, { worker: shared.make, locks: browser.tab().environment.locks, session: session() }, { persist })
    await statusWhere(t.client, (s) => s.state === 'live')
    await until(() => [...records.values()].some((text) => text.includes('"remaining"')))
    const [key, text] = [...records.entries()][0] as [string, string]
    expect(key).toMatch(/^fates-rx:1:[0-9a-f]{64}$/)
    expect(JSON.parse(text).ledger.remaining).toBe(18)
    expect(text).not.toContain(token)
  })

  it('a tab that outlives its worker joins a new one, which resumes after the tab’s mark: every event once', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const firstWorker = browser.tab()
    let hub = createHub({ locks: firstWorker.environment.locks })
    const make = (): SharedWorkerLike => worker(hub).make()
    const t = tab(running.url, { worker: make, locks: browser.tab().environment.locks, session: session() })
    await statusWhere(t.client, (s) => s.state === 'live')
    const before = await running.publish(channel, vote(1))
    await until(() => t.events.length === 1)

    // The worker stops (its lock goes with it); the next SharedWorker made is a new one.
    hub = createHub({ locks: browser.tab().environment.locks })
    firstWorker.crash()
    const during = await running.publish(channel, vote(2))
    await until(() => t.events.length === 2)
    const after = await running.publish(channel, vote(3))
    await until(() => t.events.length === 3)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(t.eids()).toEqual([before, during, after])
    expect(await running.identified()).toBe(2)
  })

  it('a tab whose record holds a mark rejoins from it when its worker stops before the gap is filled: the gap arrives, once, resumed', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const records = new Map<string, string>()
    const persist = { getItem: (key: string) => records.get(key) ?? null, setItem: (key: string, value: string) => void records.set(key, value) }
    // An earlier life of the page: it delivered one vote, and its record keeps the mark.
    let hub = createHub({ locks: browser.tab().environment.locks })
    const earlier = tab(running.url, { worker: () => worker(hub).make(), locks: browser.tab().environment.locks, session: session() }, { persist })
    await statusWhere(earlier.client, (s) => s.state === 'live')
    await running.publish(channel, vote(1))
    await until(() => earlier.events.length === 1 && [...records.values()].some((text) => text.includes('"mark"')))
    earlier.leave()
    const missed = await running.publish(channel, vote(2))
    await new Promise((resolve) => setTimeout(resolve, 20))

    // The next life (a new session): its worker's socket never opens (a peer that accepts and
    // never answers), and that worker stops after welcoming the tab, before any fill.
    const held: Socket[] = []
    const silent = createNetServer((socket) => void held.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => {
      for (const socket of held) socket.destroy()
      return new Promise((resolve) => silent.close(resolve))
    })
    const silentUrl = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}`
    class Unanswered extends NodeWebSocket {
      constructor(_url: string, protocols?: string | string[]) {
        super(silentUrl, protocols)
      }
    }
    const stalled = browser.tab()
    hub = createHub({ locks: stalled.environment.locks, connect: { WebSocket: Unanswered as unknown as NonNullable<ConnectOptions['WebSocket']> } })
    const next = tab(running.url, { worker: () => worker(hub).make(), locks: browser.tab().environment.locks, session: session() }, { persist })
    await until(() => next.statuses.some((s) => s.state === 'connecting'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    hub = createHub({ locks: browser.tab().environment.locks })
    stalled.crash()
    await until(() => next.events.length >= 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(next.eids()).toEqual([missed])
    expect(next.events[0]?.resumed).toBe(true)
  })

  it('lets a crashed tab’s port go (its lock), and closes the upstream when that was the last', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const hub = createHub({ locks: browser.tab().environment.locks })
    const shared = worker(hub)
    const doomed = browser.tab()
    const t = tab(running.url, { worker: shared.make, locks: doomed.environment.locks, session: session() })
    await statusWhere(t.client, (s) => s.state === 'live')
    expect(running.open()).toBe(1)
    doomed.crash()
    await until(() => running.open() === 0)
  })

  it('falls back to the tabs’ election when there is no SharedWorker, and when the worker does not answer', async () => {
    const running = await server()
    const browser = memoryBrowser()
    const none = tab(running.url, {
      worker: () => {
        throw new ReferenceError('SharedWorker is not defined')
      },
      fallback: browser.tab().environment,
    })
    const live = await statusWhere(none.client, (s) => s.state === 'live')
    expect(live.tabs?.role).toBe('leader')
    expect(live.detail).toMatch(/Not shared through a SharedWorker: this browser has no SharedWorker/)

    const mute = new MessageChannel()
    cleanup.push(() => mute.port1.close())
    const silent = tab(running.url, {
      worker: { port: { postMessage: () => undefined, onmessage: null } },
      fallback: browser.tab().environment,
      welcomeTimeoutMs: 100,
    })
    const fell = await statusWhere(silent.client, (s) => s.state === 'live')
    expect(fell.tabs?.role).toBe('follower')
    expect(fell.detail).toMatch(/did not answer within 100 ms/)
  })
})
