import { BehaviorSubject, Subject, VirtualTimeScheduler } from 'rxjs'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ControlPayload, ReceivedEvent } from '../../codec/index.js'
import type { Diagnostic } from '../../operators/diagnostic.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import type { ConnectionStatus } from '../connection/status.js'
import { fakeWebSockets } from '../../testing/index.js'
import { NameVersion } from '../digest.js'
import type { FatesClient } from '../fates-client.js'
import { type ConnectOptions, resolveOptions } from '../options.js'
import type { PersistStore } from '../persist/persist-support.js'
import type { HubJoin, HubMessage, PortMessage } from './hub-machine.js'
import { workerClient } from './port.js'
import type { SharedWorkerLike, TabLocks, TabsEnvironment, WorkerSharing } from './tab-support.js'

// The tab's side of `shareAcrossTabs: { worker }` (port.ts) against a scripted worker: each
// test says what the hub answers, message by message, and reads what the tab posts and shows.
// connect.worker.test.ts runs the same code against a real hub and server; this one reaches
// the paths a real hub seldom takes (late, stale or malformed answers, a worker that stops or
// never answers, storage that fails) and pins each decision to what the tab does.

const name = `fates-rx:${NameVersion}:d1gest`
const markKey = `${name}:mark`
const token = 'port-secret-token'

/** A worker whose port the test speaks for. */
function scripted() {
  const posted: PortMessage[] = []
  const listeners: [string, () => void][] = []
  let starts = 0
  const worker: SharedWorkerLike = {
    port: { postMessage: (message) => void posted.push(message as PortMessage), onmessage: null, start: () => void (starts += 1) },
    addEventListener: (type, listener) => void listeners.push([type, listener]),
  }
  return {
    worker,
    posted,
    /** The hub's message to this tab (anything: the tab must cope with what is not one). */
    say: (data: HubMessage | unknown) => worker.port.onmessage?.({ data }),
    fail: () => listeners.forEach(([type, listener]) => type === 'error' && listener()),
    starts: () => starts,
    joins: () => posted.filter((m): m is HubJoin => m.type === 'join'),
    count: (type: PortMessage['type']) => posted.filter((m) => m.type === type).length,
  }
}

/** Web Locks that the test grants by hand. */
function manualLocks() {
  const asked: { name: string; grant: () => Promise<void> }[] = []
  const locks: TabLocks = {
    request: (lock, _options, callback) => {
      asked.push({ name: lock, grant: callback })
      return new Promise(() => undefined)
    },
    query: () => Promise.resolve({}),
  }
  return { locks, asked }
}

/** A fallback client the test drives. */
function stubClient(status: ConnectionStatus) {
  const reconnects: number[] = []
  const subjects = {
    frame$: new Subject<string>(),
    control$: new Subject<ControlPayload>(),
    event$: new Subject<ReceivedEvent>(),
    diagnostic$: new Subject<Diagnostic>(),
    status$: new BehaviorSubject<ConnectionStatus>(status),
    metrics$: new BehaviorSubject<ConnectionMetrics>({ frames: 7, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} }),
  }
  const client: FatesClient = { ...subjects, close: () => undefined, reconnect: () => void reconnects.push(1) }
  return { client, subjects, reconnects }
}

const event = (eid: string, ts: number, extra: Partial<ReceivedEvent> = {}): ReceivedEvent => ({ m: { e: 0, eid, ts }, ctx: { user: '1', votes: 1 }, ...extra })
const welcome = (extra: Partial<Extract<HubMessage, { type: 'welcome' }>> = {}): HubMessage => ({ type: 'welcome', history: [], ...extra })
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

// No Web Locks unless a test gives them (a runtime may have `navigator.locks`), and every
// global a test stubs (window events, localStorage) put back after it.
beforeEach(() => vi.stubGlobal('navigator', {}))
afterEach(() => vi.unstubAllGlobals())

/** Stubs the window's `addEventListener` for this test; the listeners by event type. */
function windowEvents(): Map<string, (event: { persisted?: boolean }) => void> {
  const listeners = new Map<string, (event: { persisted?: boolean }) => void>()
  vi.stubGlobal('addEventListener', (type: string, listener: (event: { persisted?: boolean }) => void) => void listeners.set(type, listener))
  return listeners
}

interface TabOptions {
  readonly sharing?: Partial<WorkerSharing>
  readonly options?: Partial<ConnectOptions>
  readonly session?: Map<string, string>
  readonly fallbackStatus?: ConnectionStatus
  /** The virtual clock runs no action due after this (ms). */
  readonly maxFrames?: number
  /** Made, not subscribed: the test subscribes (`watch`) when it wants. */
  readonly idle?: boolean
}

/** A tab's client over `hub` (or the sharing given), subscribed, with what it showed. */
function tab(hub: ReturnType<typeof scripted> | undefined, given: TabOptions = {}) {
  const scheduler = new VirtualTimeScheduler(undefined, given.maxFrames)
  const session = given.session ?? new Map<string, string>()
  const sessionStore = { getItem: (key: string) => session.get(key) ?? null, setItem: (key: string, value: string) => void session.set(key, value) }
  const sessionWrites: string[] = []
  const counted = { ...sessionStore, setItem: (key: string, value: string) => (sessionWrites.push(key), sessionStore.setItem(key, value)) }
  let made = 0
  const sharing: WorkerSharing = {
    worker: () => {
      if (hub === undefined) throw new Error('no hub scripted')
      made += 1
      return hub.worker
    },
    digest: () => Promise.resolve('d1gest'),
    session: counted,
    ...given.sharing,
  }
  const config = resolveOptions({ url: 'ws://hub.invalid/ws', id: '811073947382579200', token, resume: true, ...given.options })
  const fallback = stubClient(given.fallbackStatus ?? { state: 'live', since: 0, detail: 'Elected.' })
  const elected: (true | TabsEnvironment)[] = []
  let owned = 0
  const client = workerClient(
    sharing,
    config,
    (how) => (elected.push(how), fallback.client),
    () => ((owned += 1), fallback.client),
    scheduler,
  )
  const statuses: ConnectionStatus[] = []
  const events: ReceivedEvent[] = []
  const controls: ControlPayload[] = []
  const diagnostics: Diagnostic[] = []
  const frames: string[] = []
  const metrics: ConnectionMetrics[] = []
  let subscriptions: { unsubscribe(): void }[] = []
  const watch = () =>
    (subscriptions = [
      client.status$.subscribe((s) => statuses.push(s)),
      client.event$.subscribe((e) => events.push(e)),
      client.control$.subscribe((c) => controls.push(c)),
      client.diagnostic$.subscribe((d) => diagnostics.push(d)),
      client.frame$.subscribe((f) => frames.push(f)),
      client.metrics$.subscribe((m) => metrics.push(m)),
    ])
  if (given.idle !== true) watch()
  return {
    watch,
    client,
    made: () => made,
    scheduler,
    session,
    sessionWrites,
    fallback,
    elected,
    owned: () => owned,
    statuses,
    events,
    controls,
    diagnostics,
    frames,
    metrics,
    eids: () => events.map((e) => e.m.eid),
    last: () => statuses.at(-1),
    leave: () => subscriptions.forEach((s) => s.unsubscribe()),
  }
}

describe('workerClient: joining', () => {
  it('joins with the target’s name and the options as plain data (the token only in the join), started once, saying so', async () => {
    const hub = scripted()
    // A WebSocket constructor is an option too, and cannot be posted: it stays behind.
    const t = tab(hub, { options: { url: () => 'ws://read.invalid/ws', WebSocket: fakeWebSockets().WebSocket } })
    expect(t.last()).toMatchObject({ state: 'connecting', detail: 'Joining the SharedWorker that holds this connection.' })
    expect(hub.starts()).toBe(1)
    await settle()
    const [join, ...more] = hub.joins()
    expect(more).toEqual([])
    expect(join?.name).toBe(name)
    // Read now (a function option is called), without functions, `persist` or absent values.
    expect(join?.options).toMatchObject({ url: 'ws://read.invalid/ws', id: '811073947382579200', token, resume: true })
    expect(Object.keys(join?.options ?? {})).not.toContain('persist')
    expect(Object.values(join?.options ?? {}).some((value) => typeof value === 'function' || value === undefined)).toBe(false)
    // A tab with nothing in its session asks for no history, and carries no record without persist.
    expect(join).not.toHaveProperty('from')
    expect(join).not.toHaveProperty('record')
    expect(join).not.toHaveProperty('lock')
    // The token goes down the port in the join, and nowhere else.
    hub.say(welcome())
    t.client.close()
    expect(JSON.stringify(hub.posted.filter((m) => m.type !== 'join'))).not.toContain(token)
    expect(JSON.stringify(t.statuses)).not.toContain(token)
  })

  it('asks from the mark in its session, in each form a mark is stored, and from none when the text is no mark', async () => {
    const from = async (text: string) => {
      const hub = scripted()
      tab(hub, { session: new Map([[markKey, text]]) })
      await settle()
      return hub.joins()[0]?.from
    }
    expect(await from('{"ts":5,"eid":"e1","tied":["a","b"]}')).toEqual({ ts: 5, eid: 'e1', tied: ['a', 'b'], clock: 0 })
    // Read in the tab's own clock (clock 0): a mark without one would have no ceiling.
    // -Infinity is stored as null (JSON has no infinity).
    expect(await from('{"ts":null,"eid":"e1"}')).toEqual({ ts: -Infinity, eid: 'e1', tied: undefined, clock: 0 })
    // A tie list holding anything but eids is dropped, not the mark.
    expect(await from('{"ts":5,"eid":"e1","tied":["a",2]}')).toEqual({ ts: 5, eid: 'e1', tied: undefined, clock: 0 })
    expect(await from('{"ts":5,"eid":"e1","tied":"a"}')).toEqual({ ts: 5, eid: 'e1', tied: undefined, clock: 0 })
    for (const bad of ['{"ts":"5","eid":"e1"}', '{"ts":5,"eid":7}', '{"ts":5}', 'null', '7', '{not json', '{"mark":null}']) {
      expect(await from(bad), bad).toBeUndefined()
    }
  })

  it('carries its persisted record to the hub, and starts its mark from the record’s when its session has none', async () => {
    const record = JSON.stringify({ v: 1, ledger: {}, mark: { ts: 40, eid: 'r1' } })
    const store: PersistStore = { getItem: (key) => (key === name ? record : null), setItem: () => undefined }
    const hub = scripted()
    const t = tab(hub, { options: { persist: store } })
    await settle()
    expect(hub.joins()[0]).toMatchObject({ record })
    // An option left unset (here `WebSocket`) is not sent as a key without a value.
    expect(Object.keys(hub.joins()[0]?.options ?? {})).not.toContain('WebSocket')
    expect(hub.joins()[0]).not.toHaveProperty('from')
    hub.say(welcome())
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toEqual({ ts: 40, eid: 'r1' })
  })

  it('joins with an empty record when its store has none or refuses, and reads the session’s mark only once', async () => {
    const refusing: PersistStore = {
      getItem: () => {
        throw new Error('denied')
      },
      setItem: () => undefined,
    }
    for (const store of [{ getItem: () => null, setItem: () => undefined }, refusing] satisfies PersistStore[]) {
      const hub = scripted()
      tab(hub, { options: { persist: store } })
      await settle()
      expect(hub.joins()[0]?.record).toBe('')
    }
    // A tab that left and came back starts afresh: its session's mark is the last page's, not this one's.
    const hub = scripted()
    const t = tab(hub, { session: new Map([[markKey, '{"ts":5,"eid":"e1"}']]) })
    await settle()
    expect(hub.joins()[0]?.from).toEqual({ ts: 5, eid: 'e1', tied: undefined, clock: 0 })
    t.leave()
    t.session.set(markKey, '{"ts":9,"eid":"e9"}')
    t.client.status$.subscribe()
    await settle()
    expect(hub.joins()[1]).not.toHaveProperty('from')
  })

  it('holds the join until this tab holds its own lock, and names that lock in it', async () => {
    const hub = scripted()
    const { locks, asked } = manualLocks()
    tab(hub, { sharing: { locks } })
    await settle()
    expect(hub.joins()).toEqual([])
    expect(asked).toHaveLength(1)
    expect(asked[0]?.name.startsWith(`${name}:tab:`)).toBe(true)
    void asked[0]?.grant()
    expect(hub.joins()).toHaveLength(1)
    expect(hub.joins()[0]?.lock).toBe(asked[0]?.name)
  })
})

describe('workerClient: what the hub says', () => {
  it('delivers the welcome’s history and status, and the batches after it, each event once', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    const status: ConnectionStatus = { state: 'live', since: 3, detail: 'Live.', tabs: { role: 'worker', count: 2 } }
    hub.say(welcome({ history: [event('a', 1), event('b', 2)], status }))
    expect(t.eids()).toEqual(['a', 'b'])
    expect(t.last()).toEqual(status)
    const control: ControlPayload = { control: true, code: 'ping' }
    const diagnostic: Diagnostic = { kind: 'not-json', message: 'x', raw: 'y' }
    hub.say({ type: 'out', items: [['event', event('b', 2)], ['event', event('c', 3)], ['control', control], ['diagnostic', diagnostic], ['frame', 'f']] })
    expect(t.eids()).toEqual(['a', 'b', 'c'])
    expect(t.controls).toEqual([control])
    expect(t.diagnostics).toEqual([diagnostic])
    expect(t.frames).toEqual(['f'])
    // An event without an eid cannot be a duplicate: each is delivered.
    hub.say({ type: 'out', items: [['event', { m: { e: 0 }, ctx: {} }], ['event', { m: { e: 0 }, ctx: {} }]] })
    expect(t.events).toHaveLength(5)
  })

  it('keeps its mark in its session, once per task however many events moved it, and not for prior history or without resume', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ history: [event('a', 10), event('b', 11)] }))
    hub.say({ type: 'out', items: [['event', event('c', 12)]] })
    expect(t.sessionWrites).toEqual([])
    await settle()
    expect(t.sessionWrites).toEqual([markKey])
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 12, eid: 'c' })
    // History from before the connection's first ready does not move the mark.
    hub.say({ type: 'out', items: [['event', event('d', 13, { prior: true })]] })
    await settle()
    expect(t.sessionWrites).toEqual([markKey])
    expect(t.eids()).toEqual(['a', 'b', 'c', 'd'])

    const quiet = scripted()
    const q = tab(quiet, { options: { resume: false } })
    await settle()
    quiet.say(welcome({ history: [event('a', 10)] }))
    await settle()
    expect(q.sessionWrites).toEqual([])
    expect(q.eids()).toEqual(['a'])
  })

  it('keeps its mark where a replay began until an event after the replay: a replay comes in any order', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ history: [event('a', 10)] }))
    await settle()
    // The worker's connection dropped and fills the gap: c came before b, and a drop could cut
    // the replay here; a reload now must ask from a, or b would be lost.
    hub.say({ type: 'out', items: [['event', event('c', 12, { resumed: true })]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 10, eid: 'a' })
    hub.say({ type: 'out', items: [['event', event('b', 11, { resumed: true })]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 10, eid: 'a' })
    // A live event: the replay ended (done_prior), and the mark takes all of it.
    hub.say({ type: 'out', items: [['event', event('d', 13)]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 13, eid: 'd' })
    // The replay's newest counts even when the live event after it is stamped earlier (its
    // producer's clock behind): the mark is the newest delivered, replay and live alike.
    hub.say({ type: 'out', items: [['event', event('f', 15, { resumed: true })]] })
    hub.say({ type: 'out', items: [['event', event('e', 14)]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 15, eid: 'f' })
    expect(t.eids()).toEqual(['a', 'c', 'b', 'd', 'f', 'e'])
  })

  it('makes a replay its mark at the done_prior after it, with no live event to follow: a reload asks for it no more', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ history: [event('a', 10)] }))
    await settle()
    hub.say({ type: 'out', items: [['event', event('c', 12, { resumed: true })], ['event', event('b', 11, { resumed: true })]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 10, eid: 'a' })
    hub.say({ type: 'out', items: [['control', { code: 'done_prior', control: true } as ControlPayload]] })
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 12, eid: 'c' })
    expect(t.eids()).toEqual(['a', 'c', 'b'])
  })

  it('counts the welcome\'s fill at once, though it is marked resumed: a second reload with no live event between gets it no more', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ history: [event('a', 10, { resumed: true }), event('b', 11, { resumed: true })] }))
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 11, eid: 'b' })
  })

  it('keeps its mark within its own clock plus a minute: an event stamped a day ahead hides nothing from a reload', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ history: [event('a', 10)] }))
    hub.say({ type: 'out', items: [['event', event('ahead', 86_400)]] })
    await settle()
    // The tab's clock is the virtual scheduler's: 0 s now, so the ceiling is 60 s.
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toMatchObject({ ts: 60, eid: 'ahead' })
  })

  it('marks its joining time at the welcome when it has delivered nothing, so a reload before the first event misses nothing', async () => {
    const hub = scripted()
    const t = tab(hub, { maxFrames: 7_000, sharing: { welcomeTimeoutMs: 60_000 } })
    t.scheduler.schedule(() => undefined, 7_000)
    t.scheduler.flush()
    await settle()
    hub.say(welcome())
    await settle()
    expect(JSON.parse(t.session.get(markKey) ?? 'null')).toEqual({ ts: 7, eid: '' })
  })

  it('ignores what is no message, and anything once it has left', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    for (const data of [null, 'welcome', 7, undefined]) hub.say(data)
    hub.say(welcome())
    hub.say({ type: 'out', items: [['event', event('a', 1)]] })
    expect(t.eids()).toEqual(['a'])
    t.leave()
    hub.say({ type: 'out', items: [['event', event('b', 2)]] })
    expect(t.eids()).toEqual(['a'])
  })

  it('ignores a batch whole that a worker of another version, or a broken one, posts', async () => {
    const hub = scripted()
    const t = tab(hub, { sharing: { welcomeTimeoutMs: 300 }, fallbackStatus: { state: 'live', since: 0 } })
    await settle()
    // An event without `m`, an item that is no pair, no list.
    hub.say({ type: 'out', items: [['event', event('a', 1)], ['event', { ctx: {} }]] })
    hub.say({ type: 'out', items: [['event', event('b', 2)], 7] })
    hub.say({ type: 'out', items: 'no' })
    expect(t.events).toEqual([])
    t.scheduler.flush()
    expect(t.last()?.detail).toBe('Not shared through a SharedWorker: the worker did not answer within 300 ms.')
  })

  it.each([
    ['whose history holds no events', { history: [{ ctx: {} }] }],
    ['without a history', { history: undefined }],
  ])('falls back at once on a welcome %s (a worker of another version), reading none of it', async (_, change) => {
    const hub = scripted()
    const t = tab(hub, { sharing: { welcomeTimeoutMs: 300 }, fallbackStatus: { state: 'live', since: 0 } })
    await settle()
    hub.say({ ...welcome(), ...change })
    expect(t.events).toEqual([])
    expect(t.last()?.detail).toBe('Not shared through a SharedWorker: its welcome was unreadable (another version?).')
    // Its later messages are not read either.
    hub.say({ type: 'out', items: [['event', event('a', 1)]] })
    expect(t.eids()).toEqual([])
  })

  it('keeps each record the hub relays in its store, and goes on when the store refuses', async () => {
    const writes: [string, string][] = []
    let mode: 'ok' | 'throw' | 'reject' = 'throw'
    const store: PersistStore = {
      getItem: () => null,
      setItem: (key, value) => {
        if (mode === 'throw') throw new Error('quota')
        if (mode === 'reject') return Promise.reject(new Error('quota'))
        writes.push([key, value])
        return undefined
      },
    }
    const hub = scripted()
    const t = tab(hub, { options: { persist: store } })
    await settle()
    hub.say({ type: 'store', key: name, text: 'one' })
    mode = 'reject'
    hub.say({ type: 'store', key: name, text: 'two' })
    mode = 'ok'
    hub.say({ type: 'store', key: name, text: 'three' })
    await settle()
    expect(writes).toEqual([[name, 'three']])
    hub.say(welcome())
    hub.say({ type: 'out', items: [['event', event('a', 1)]] })
    expect(t.eids()).toEqual(['a'])
  })
})

describe('workerClient: a worker that stops', () => {
  it('waits for the worker’s lock once per worker, and on its grant joins a new worker from its mark', async () => {
    const first = scripted()
    const second = scripted()
    const workers = [first, second]
    const { locks, asked } = manualLocks()
    let made = 0
    const t = tab(undefined, { sharing: { locks, worker: () => (workers[made++] as ReturnType<typeof scripted>).worker } })
    await settle()
    void asked[0]?.grant()
    first.say(welcome({ lock: 'fates-rx:hub:1' }))
    first.say(welcome({ lock: 'fates-rx:hub:1' }))
    const waits = asked.filter((a) => a.name === 'fates-rx:hub:1')
    expect(waits).toHaveLength(1)
    first.say({ type: 'out', items: [['event', event('a', 5)]] })
    await settle()

    void waits[0]?.grant()
    await settle()
    expect(made).toBe(2)
    // The old worker is gone: nothing is posted to it, and what it still says is not heard.
    expect(first.count('leave')).toBe(0)
    first.say({ type: 'out', items: [['event', event('stale', 6)]] })
    const tabLock = asked.at(-1)
    expect(tabLock?.name.startsWith(`${name}:tab:`)).toBe(true)
    void tabLock?.grant()
    expect(second.joins()[0]?.from).toMatchObject({ ts: 5, eid: 'a' })
    second.say(welcome())
    second.say({ type: 'out', items: [['event', event('b', 7)]] })
    expect(t.eids()).toEqual(['a', 'b'])
  })

  it('falls back when the worker it was given (not a factory) stops, saying why', async () => {
    const hub = scripted()
    const { locks, asked } = manualLocks()
    const t = tab(undefined, { sharing: { locks, worker: hub.worker } })
    await settle()
    void asked[0]?.grant()
    hub.say(welcome({ lock: 'fates-rx:hub:2' }))
    void asked.find((a) => a.name === 'fates-rx:hub:2')?.grant()
    await settle()
    expect(t.elected).toEqual([true])
    expect(t.last()?.detail).toBe('Elected. (Not shared through a SharedWorker: the worker stopped.)')
  })

  it('falls back once when the worker does not answer in time, and not when it answered', async () => {
    const silent = scripted()
    const t = tab(silent, { sharing: { welcomeTimeoutMs: 300 }, fallbackStatus: { state: 'live', since: 0 } })
    await settle()
    t.scheduler.flush()
    expect(t.elected).toEqual([true])
    // A status without a detail of its own says only why.
    expect(t.last()?.detail).toBe('Not shared through a SharedWorker: the worker did not answer within 300 ms.')
    // Its own join is left behind: the worker, should it wake, hears a leave.
    expect(silent.count('leave')).toBe(1)

    const answering = scripted()
    const a = tab(answering, { sharing: { welcomeTimeoutMs: 300 } })
    await settle()
    answering.say(welcome())
    a.scheduler.flush()
    expect(a.elected).toEqual([])
  })

  it('posts nothing for a joining left before its target was named: one join for a close() and reconnect() at once', async () => {
    const hub = scripted()
    const t = tab(hub, { sharing: { welcomeTimeoutMs: 300 } })
    t.client.close()
    t.client.reconnect()
    await settle()
    expect(hub.posted).toHaveLength(1)
    expect(hub.joins()).toHaveLength(1)
    hub.say(welcome())
    t.scheduler.flush()
    expect(t.elected).toEqual([])
  })

  it('falls back for each way a worker can fail to be had, to the tabs’ election or its own connection', async () => {
    const why = async (sharing: Partial<WorkerSharing>, options: Partial<ConnectOptions> = {}, act?: (hub: ReturnType<typeof scripted>) => void) => {
      const hub = scripted()
      const t = tab(hub, { sharing, options })
      act?.(hub)
      await settle()
      return { detail: t.last()?.detail, elected: t.elected, owned: t.owned() }
    }
    const environment = { name: 'env' } as unknown as TabsEnvironment
    expect(
      await why({
        worker: () => {
          throw new ReferenceError('SharedWorker is not defined')
        },
        fallback: environment,
      }),
    ).toEqual({ detail: 'Elected. (Not shared through a SharedWorker: this browser has no SharedWorker.)', elected: [environment], owned: 0 })
    expect(await why({ fallback: false }, {}, (hub) => hub.fail())).toEqual({
      detail: 'Elected. (Not shared through a SharedWorker: the worker script failed.)',
      elected: [],
      owned: 1,
    })
    const throwing = () => {
      throw new Error(token)
    }
    expect((await why({}, { token: throwing })).detail).toBe('Elected. (Not shared through a SharedWorker: reading the url, id or token option threw.)')
    expect((await why({ digest: () => Promise.reject(new Error('no subtle')) })).detail).toBe(
      'Elected. (Not shared through a SharedWorker: the target could not be digested.)',
    )
  })

  it('follows its fallback’s streams, each event once, and passes reconnect() to it', async () => {
    const hub = scripted()
    const t = tab(hub)
    hub.fail()
    const { subjects, reconnects } = t.fallback
    subjects.event$.next(event('a', 1))
    subjects.event$.next(event('a', 1))
    const control: ControlPayload = { control: true, code: 'ping' }
    subjects.control$.next(control)
    const diagnostic: Diagnostic = { kind: 'not-json', message: 'x', raw: 'y' }
    subjects.diagnostic$.next(diagnostic)
    subjects.frame$.next('frame')
    expect(t.eids()).toEqual(['a'])
    expect(t.controls).toEqual([control])
    expect(t.diagnostics).toEqual([diagnostic])
    expect(t.frames).toEqual(['frame'])
    expect(t.metrics.at(-1)?.frames).toBe(7)
    t.client.reconnect()
    expect(reconnects).toHaveLength(1)
    // A second failure changes nothing: one fallback.
    hub.fail()
    expect(t.elected).toHaveLength(1)
    // Left and back: the same fallback is followed again, not a second one made.
    t.leave()
    subjects.event$.next(event('b', 2))
    expect(t.eids()).toEqual(['a'])
    t.client.event$.subscribe((e) => t.events.push(e))
    subjects.event$.next(event('c', 3))
    expect(t.eids()).toEqual(['a', 'c'])
    expect(t.elected).toHaveLength(1)
  })
})

describe('workerClient: the user’s calls and the page’s life', () => {
  it('close() leaves once and says so; reconnect() then joins again; reconnect() while joined asks the hub', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome())
    t.client.reconnect()
    expect(hub.count('reconnect')).toBe(1)
    t.client.close()
    t.client.close()
    expect(hub.count('leave')).toBe(1)
    expect(t.last()).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    t.client.reconnect()
    await settle()
    expect(hub.joins()).toHaveLength(2)
    expect(t.last()?.state).toBe('connecting')
  })

  it('leaves when its last subscriber does, and a reconnect() after a close() with no subscriber joins nothing', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome())
    t.client.close()
    t.leave()
    t.client.reconnect()
    await settle()
    expect(hub.joins()).toHaveLength(1)

    const other = scripted()
    const o = tab(other)
    await settle()
    o.leave()
    expect(other.count('leave')).toBe(1)
    const after: ConnectionStatus[] = []
    o.client.status$.subscribe((s) => after.push(s)).unsubscribe()
    expect(after[0]).toMatchObject({ state: 'closed', detail: 'No subscribers left.' })
  })

  it('leaves on pagehide and joins again on a pageshow from the back-forward cache, not on a plain one', async () => {
    const listeners = windowEvents()
    const hub = scripted()
    tab(hub)
    await settle()
    hub.say(welcome())
    listeners.get('pageshow')?.({ persisted: true })
    expect(hub.joins()).toHaveLength(1)
    listeners.get('pagehide')?.({})
    expect(hub.count('leave')).toBe(1)
    listeners.get('pagehide')?.({})
    expect(hub.count('leave')).toBe(1)
    listeners.get('pageshow')?.({ persisted: false })
    await settle()
    expect(hub.joins()).toHaveLength(1)
    listeners.get('pageshow')?.({ persisted: true })
    await settle()
    expect(hub.joins()).toHaveLength(2)
  })
})

describe('workerClient: the edges', () => {
  it('starts closed, with no metrics, and says why', () => {
    const t = tab(scripted())
    expect(t.statuses[0]).toEqual({ state: 'closed', since: 0, detail: 'Not opened yet: the connection opens on the first subscription.' })
    expect(t.metrics[0]).toEqual({ frames: 0, bytes: 0, payloads: 0, events: 0, resumed: 0, duplicates: 0, diagnostics: 0, reconnects: {} })
  })

  it('reads its record from localStorage with persist: true', async () => {
    const record = JSON.stringify({ v: 1, ledger: {}, mark: { ts: 40, eid: 'r1' } })
    vi.stubGlobal('localStorage', { getItem: (key: string) => (key === name ? record : null), setItem: () => undefined })
    const hub = scripted()
    tab(hub, { options: { persist: true } })
    await settle()
    expect(hub.joins()[0]?.record).toBe(record)
  })

  it('writes its mark again only when an event moved it, and keeps the mark it came with at the welcome', async () => {
    const hub = scripted()
    const t = tab(hub, { session: new Map([[markKey, '{"ts":50,"eid":"m"}']]) })
    await settle()
    hub.say(welcome())
    await settle()
    expect(t.sessionWrites).toEqual([])
    // Older than the mark: delivered (a new eid), but the mark stays.
    hub.say({ type: 'out', items: [['event', event('old', 20)]] })
    await settle()
    expect(t.eids()).toEqual(['old'])
    expect(t.sessionWrites).toEqual([])
    hub.say({ type: 'out', items: [['event', event('new', 60)]] })
    await settle()
    expect(t.sessionWrites).toEqual([markKey])
  })

  it('delivers a welcome that names a lock when this tab has no Web Locks to wait for it with', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome({ lock: 'fates-rx:hub:3', history: [event('a', 1)] }))
    expect(t.eids()).toEqual(['a'])
  })

  it('does not fall back once closed when its worker stops, and does not show the fallback its failure makes', async () => {
    const hub = scripted()
    const { locks, asked } = manualLocks()
    const t = tab(hub, { sharing: { locks } })
    await settle()
    void asked[0]?.grant()
    hub.say(welcome({ lock: 'fates-rx:hub:4' }))
    t.client.close()
    void asked.find((a) => a.name === 'fates-rx:hub:4')?.grant()
    await settle()
    expect(t.elected).toEqual([])
    hub.fail()
    expect(t.elected).toEqual([true])
    t.fallback.subjects.status$.next({ state: 'live', since: 1, detail: 'Elected.' })
    expect(t.last()).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
  })

  it('stops following its fallback when closed', () => {
    const hub = scripted()
    const t = tab(hub)
    hub.fail()
    t.fallback.subjects.event$.next(event('a', 1))
    t.client.close()
    t.fallback.subjects.event$.next(event('b', 2))
    expect(t.eids()).toEqual(['a'])
  })

  it('keeps its worker across a close() and reconnect(), joins it again, and a later close() leaves again', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    t.client.close()
    t.client.reconnect()
    await settle()
    expect(t.made()).toBe(1)
    expect(hub.starts()).toBe(1)
    expect(hub.joins()).toHaveLength(2)
    t.client.close()
    expect(hub.count('leave')).toBe(2)
  })

  it('posts nothing for a joining left while its record was being read', async () => {
    let answer: (text: string | null) => void = () => undefined
    const store: PersistStore = { getItem: () => new Promise((resolve) => (answer = resolve)), setItem: () => undefined }
    const hub = scripted()
    const t = tab(hub, { options: { persist: store } })
    await settle()
    t.client.close()
    answer(null)
    await settle()
    expect(hub.joins()).toEqual([])
  })

  it('holds its own lock while joined, under a name of its own, and lets it go when it leaves; a lock granted too late joins nothing', async () => {
    const hub = scripted()
    const { locks, asked } = manualLocks()
    const t = tab(hub, { sharing: { locks } })
    await settle()
    expect(asked[0]?.name).toMatch(new RegExp(`^${name}:tab:[0-9a-z]+$`))
    let released = false
    void asked[0]?.grant().then(() => (released = true))
    await settle()
    expect(released).toBe(false)
    t.client.close()
    await settle()
    expect(released).toBe(true)

    const late = scripted()
    const other = manualLocks()
    const l = tab(late, { sharing: { locks: other.locks } })
    await settle()
    l.client.close()
    void other.asked[0]?.grant()
    expect(late.joins()).toEqual([])
  })

  it('listens to the window only while subscribed and not closed, so that a closed client is not kept alive by it', async () => {
    const listening = new Map<string, unknown>()
    vi.stubGlobal('addEventListener', (type: string, listener: unknown) => void listening.set(type, listener))
    vi.stubGlobal('removeEventListener', (type: string, listener: unknown) => {
      if (listening.get(type) === listener) listening.delete(type)
    })
    const hub = scripted()
    const t = tab(hub)
    await settle()
    expect([...listening.keys()].sort()).toEqual(['pagehide', 'pageshow'])
    t.client.close()
    expect(listening.size).toBe(0)
    t.client.reconnect()
    expect([...listening.keys()].sort()).toEqual(['pagehide', 'pageshow'])
    t.leave()
    expect(listening.size).toBe(0)
  })

  it('joins nothing for a subscriber that comes after close(), nor for a pageshow before any subscriber', async () => {
    const listeners = windowEvents()
    const hub = scripted()
    const t = tab(hub, { idle: true })
    listeners.get('pageshow')?.({ persisted: true })
    t.client.close()
    t.watch()
    await settle()
    expect(hub.posted).toEqual([])
    expect(t.made()).toBe(0)
  })

  it('follows its fallback once, whatever pageshow says after', () => {
    const listeners = windowEvents()
    const hub = scripted()
    const t = tab(hub)
    hub.fail()
    listeners.get('pagehide')?.({})
    listeners.get('pageshow')?.({ persisted: true })
    // No eid: nothing to deduplicate, so a second following would deliver it twice.
    t.fallback.subjects.event$.next({ m: { e: 0 }, ctx: {} })
    expect(t.events).toHaveLength(1)
  })

  it('names nothing for a joining its fallback left: a later close() posts no leave, and the fallback’s events keep no mark', async () => {
    const hub = scripted()
    const t = tab(hub)
    hub.fail()
    await settle()
    t.fallback.subjects.event$.next(event('a', 5))
    await settle()
    t.client.close()
    expect(hub.posted).toEqual([])
    expect(t.sessionWrites).toEqual([])
    expect(t.eids()).toEqual(['a'])
  })

  it('keeps no mark for a tab that left in the task of its last event', async () => {
    const hub = scripted()
    const t = tab(hub)
    await settle()
    hub.say(welcome())
    await settle()
    expect(t.sessionWrites).toEqual([markKey])
    hub.say({ type: 'out', items: [['event', event('a', 5)]] })
    t.leave()
    await settle()
    expect(t.sessionWrites).toEqual([markKey])
  })
})
