import { BehaviorSubject, NEVER, takeWhile, VirtualTimeScheduler } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import type { ConnectionStatus } from '../connection/status.js'
import type { FatesClient } from '../fates-client.js'
import { resolveOptions } from '../options.js'
import type { HubMessage, PortMessage } from './hub-machine.js'
import { workerClient } from './port.js'
import type { SharedWorkerLike } from './tab-support.js'

// A re-entrancy review (2026-12-08): a subscriber of a worker-shared client (port.ts) that calls close() or
// leaves from inside an emission.

beforeEach(() => vi.stubGlobal('navigator', {}))
afterEach(() => vi.unstubAllGlobals())

const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
const event = (eid: string, ts: number): ReceivedEvent => ({ m: { e: 0, eid, ts }, ctx: { user: '1', votes: 1 } })
const live: ConnectionStatus = { state: 'live', since: 0 }

function setup() {
  const posted: PortMessage[] = []
  const worker: SharedWorkerLike = { port: { postMessage: (m) => void posted.push(m as PortMessage), onmessage: null } }
  const scheduler = new VirtualTimeScheduler()
  const fallbacks: string[] = []
  // A fallback that never connects: what matters is whether one is made.
  const never = (): FatesClient => ({
    frame$: NEVER, control$: NEVER, event$: NEVER, diagnostic$: NEVER, metrics$: NEVER,
    status$: new BehaviorSubject<ConnectionStatus>({ state: 'closed', since: 0 }),
    close: () => undefined, reconnect: () => undefined,
  })
  const client = workerClient(
    { worker: () => worker, digest: () => Promise.resolve('d1gest'), session: { getItem: () => null, setItem: () => undefined } },
    resolveOptions({ url: 'ws://hub.invalid/ws', id: '811073947382579200', token: 'tok', resume: true }),
    () => (fallbacks.push('elect'), never()),
    () => (fallbacks.push('own'), never()),
    scheduler,
  )
  const say = (data: HubMessage) => worker.port.onmessage?.({ data })
  return { client, posted, scheduler, fallbacks, say, joins: () => posted.filter((m) => m.type === 'join').length }
}

/** A worker tab whose event$ subscriber calls close() on event `a`; `log` holds states and events. */
async function closingOnA() {
  const t = setup()
  const log: string[] = []
  t.client.status$.subscribe((s) => log.push(s.state))
  t.client.event$.subscribe((e) => {
    log.push(`event ${e.m.eid}`)
    if (e.m.eid === 'a') t.client.close()
  })
  await settle()
  return { t, log }
}

describe('workerClient: close() from inside an emission', () => {
  it('shows nothing after closed when close() is called on a history event of the welcome', async () => {
    const { t, log } = await closingOnA()
    t.say({ type: 'welcome', history: [event('a', 1), event('b', 2)], status: live })
    // The table: closed leaves only to connecting, reconnecting, failed or closed; after
    // close() it stays closed until reconnect().
    expect(log.slice(log.indexOf('closed', 1))).toEqual(['closed'])
  })

  it('shows nothing after closed when close() is called on an event of a batch', async () => {
    const { t, log } = await closingOnA()
    t.say({ type: 'welcome', history: [], status: live })
    t.say({ type: 'out', items: [['event', event('a', 1)], ['event', event('b', 2)], ['status', { state: 'reconnecting', since: 3 }]] })
    expect(log.slice(log.indexOf('closed', 1))).toEqual(['closed'])
    let replayed: string | undefined
    t.client.status$.subscribe((s) => (replayed ??= s.state)).unsubscribe()
    expect(replayed).toBe('closed')
  })
})

describe('workerClient: the last subscriber leaving on the first connecting', () => {
  it('leaves no welcome timer armed, and the next subscriber still joins the worker', async () => {
    const t = setup()
    t.client.status$.pipe(takeWhile((s) => s.state !== 'connecting')).subscribe()
    await settle()
    const armed = t.scheduler.actions.length
    t.scheduler.flush()
    // The welcome wait of a joining already left fell back for good (no worker again).
    expect(t.fallbacks).toEqual([])
    expect(armed).toBe(0)
    const sub = t.client.event$.subscribe()
    await settle()
    expect(t.joins()).toBe(1)
    sub.unsubscribe()
  })
})
