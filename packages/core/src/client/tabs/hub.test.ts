import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fakeWebSockets, joinFrames, fatesEvent, wrapEvent } from '../../testing/index.js'
import { parseRecord, recordText } from '../persist/persist.js'
import type { HubJoin, HubMessage } from './hub-machine.js'
import { Protocol } from '../../protocol/limits.js'
import { createHub, startHub } from './hub.js'
import type { TabLocks, WorkerPortLike } from './tab-support.js'

// The SharedWorker's side (hub.ts) over scripted ports and fake sockets: each test plays the
// tabs, message by message, and the server, frame by frame, and reads what each port is sent.
// connect.worker.test.ts runs the same hub between real tabs and the real server; this one
// pins what the interpreter itself decides: when it serves a port, what it adds to a welcome,
// how it batches, where a record goes, and what it does with a tab's lock.

const id = '811073947382579200'
const token = 'hub-secret-token'
const name = 'fates-rx:1:target'

/** A tab's port, as the hub sees it. */
function scriptedPort() {
  const got: HubMessage[] = []
  let starts = 0
  const port: WorkerPortLike = { postMessage: (message) => void got.push(message as HubMessage), onmessage: null, start: () => void (starts += 1) }
  return {
    port,
    got,
    say: (data: unknown) => port.onmessage?.({ data }),
    served: () => port.onmessage !== null,
    starts: () => starts,
    types: () => got.map((m) => m.type),
  }
}

/** Web Locks granted by hand, or refused. */
function manualLocks(refuse = false) {
  const asked: { name: string; grant: () => Promise<void> }[] = []
  const locks: TabLocks = {
    request: (lock, _options, callback) => {
      if (refuse) return Promise.reject(new Error('no lock manager'))
      asked.push({ name: lock, grant: callback })
      return new Promise(() => undefined)
    },
    query: () => Promise.resolve({}),
  }
  return { locks, asked }
}

const join = (extra: Partial<HubJoin> = {}): HubJoin => ({ type: 'join', name, options: { url: 'ws://hub.invalid/ws', id, token, resume: true }, ...extra })
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))
/** Settles until `done()` holds, for up to 5 s: a record's name is a digest in the thread pool, which a busy machine slows. */
const until = async (done: () => boolean): Promise<void> => {
  const end = Date.now() + 5_000
  while (!done() && Date.now() < end) await settle()
  if (!done()) throw new Error('timed out')
}
const vote = (votes: number) => wrapEvent(fatesEvent(0, { user: '563808552288780322', votes, test: false }, { ts: 1_700_000_000 + votes }))

// No Web Locks unless a test gives them (a runtime may have `navigator.locks`), and every
// global a test stubs put back after it.
beforeEach(() => vi.stubGlobal('navigator', {}))
afterEach(() => vi.unstubAllGlobals())

/** A hub whose upstreams open fake sockets. */
function hub(locks?: TabLocks) {
  const fakes = fakeWebSockets()
  // A metrics timer a minute away: no real timer fires inside a test's one task.
  return { hub: createHub({ ...(locks === undefined ? {} : { locks }), connect: { WebSocket: fakes.WebSocket, metricsIntervalMs: 60_000 } }), fakes }
}

describe('createHub: serving ports', () => {
  it('serves no port before it holds its own lock, then each waiting one, started, and names that lock in every welcome', async () => {
    const { locks, asked } = manualLocks()
    const { hub: h } = hub(locks)
    const [a, b] = [scriptedPort(), scriptedPort()]
    h.connect(a.port)
    h.connect(b.port)
    expect([a.served(), b.served()]).toEqual([false, false])
    expect(asked).toHaveLength(1)
    const lock = asked[0]?.name ?? ''
    expect(lock).toMatch(/^fates-rx:hub:[0-9a-z]+$/)
    void asked[0]?.grant()
    expect([a.served(), b.served(), a.starts(), b.starts()]).toEqual([true, true, 1, 1])
    a.say(join())
    expect(a.got[0]).toMatchObject({ type: 'welcome', lock })
    // A port that comes later is served at once.
    const c = scriptedPort()
    h.connect(c.port)
    expect(c.served()).toBe(true)
    // Each hub its own lock.
    const other = manualLocks()
    hub(other.locks)
    expect(other.asked[0]?.name).not.toBe(lock)
  })

  it('serves at once, and names no lock, without Web Locks (or without navigator) or when they are refused', async () => {
    vi.stubGlobal('navigator', undefined)
    const { hub: bare } = hub()
    const port = scriptedPort()
    bare.connect(port.port)
    expect(port.served()).toBe(true)
    vi.stubGlobal('navigator', {})
    for (const locks of [undefined, manualLocks(true).locks]) {
      const { hub: h } = hub(locks)
      await settle()
      const a = scriptedPort()
      h.connect(a.port)
      expect(a.served()).toBe(true)
      // What is no message is ignored.
      a.say(null)
      a.say('join')
      expect(a.got).toEqual([])
      a.say(join())
      expect(a.got[0]?.type).toBe('welcome')
      expect(a.got[0]).not.toHaveProperty('lock')
    }
  })

  it('serves a port that has no start(), and a join naming a tab’s lock when the hub has no Web Locks', async () => {
    const { hub: h, fakes } = hub()
    const got: HubMessage[] = []
    const port: WorkerPortLike = { postMessage: (message) => void got.push(message as HubMessage), onmessage: null }
    h.connect(port)
    port.onmessage?.({ data: join({ lock: 'tab-lock' }) })
    expect(got[0]?.type).toBe('welcome')
    await until(() => fakes.sockets.length === 1)
  })

  it('runs in a SharedWorker: startHub serves every port of each connect event', () => {
    vi.stubGlobal('onconnect', null)
    const scope = globalThis as { onconnect?: unknown }
    startHub({ connect: { WebSocket: fakeWebSockets().WebSocket } })
    const [a, b] = [scriptedPort(), scriptedPort()]
    ;(scope.onconnect as (event: { ports: WorkerPortLike[] }) => void)({ ports: [a.port, b.port] })
    expect([a.served(), b.served()]).toEqual([true, true])
  })
})

// The collector, to see a port let go: exposed for a new context only, not this one's globals.
setFlagsFromString('--expose-gc')
const collect = runInNewContext('gc') as () => void

describe('createHub: the upstream', () => {
  it('opens one upstream per target with the join’s options, batches what it emits per task, and closes it with the last port', async () => {
    const { hub: h, fakes } = hub()
    const [a, b] = [scriptedPort(), scriptedPort()]
    h.connect(a.port)
    h.connect(b.port)
    a.say(join())
    b.say(join())
    await until(() => fakes.sockets.length === 1)
    expect(fakes.last().url).toBe('ws://hub.invalid/ws')
    fakes.last().handshake()
    await settle()
    a.got.length = 0
    fakes.last().frame(joinFrames(vote(1), vote(2), vote(3)))
    // Nothing until the task's end: then one message with all of it.
    expect(a.got).toEqual([])
    await settle()
    expect(a.types()).toEqual(['out'])
    const items = (a.got[0] as Extract<HubMessage, { type: 'out' }>).items
    expect(items.filter(([kind]) => kind === 'event')).toHaveLength(3)
    expect(items.every((item) => Array.isArray(item) && typeof item[0] === 'string')).toBe(true)
    expect(b.got.at(-1)).toEqual(a.got[0])

    // A message that is no batch (a welcome: this tab joined again, back from the
    // back-forward cache) goes after the batch of its task, which it must not overtake.
    a.got.length = 0
    fakes.last().frame(joinFrames(vote(4)))
    a.say(join())
    expect(a.types()).toEqual(['out', 'welcome'])
    expect((a.got[0] as Extract<HubMessage, { type: 'out' }>).items.some(([kind]) => kind === 'event')).toBe(true)

    a.say({ type: 'leave' })
    expect(fakes.last().closedByClient).toBeUndefined()
    b.say({ type: 'leave' })
    expect(fakes.last().closedByClient).toMatchObject({ code: 1000 })
  })

  it('gives each new upstream of a target the identify ledger of the one before, not its mark: a tab without a record stays within the ratelimit', async () => {
    const { hub: h, fakes } = hub()
    const a = scriptedPort()
    h.connect(a.port)
    const sessions = Protocol.rateLimit / Protocol.identifyCost
    for (let i = 1; i <= sessions; i++) {
      a.say(join())
      await until(() => fakes.sockets.length === i)
      fakes.last().handshake(Protocol.rateLimit - Protocol.identifyCost * i).frame(joinFrames(vote(i)))
      await settle()
      a.say({ type: 'leave' })
    }
    a.got.length = 0
    a.say(join())
    // The eleventh would be refused (4012): it waits for the window, and says why.
    const waiting = () => a.got.flatMap((m) => (m.type === 'out' ? m.items : [])).some(([kind, value]) => kind === 'status' && /0 requests left in the ratelimit window/.test(JSON.stringify(value)))
    await until(waiting)
    await settle()
    expect(fakes.sockets).toHaveLength(sessions)
    a.say({ type: 'leave' })
    // The mark is not carried: an upstream for a tab that keeps no record starts afresh.
    const first = JSON.parse(fakes.sockets[1]?.sent[0] ?? '{}') as Record<string, unknown>
    expect(first).toMatchObject({ send_all: false })
  })

  it('answers a join whose options connect() refuses with a failed status, and serves on', async () => {
    const { hub: h } = hub()
    const a = scriptedPort()
    h.connect(a.port)
    expect(() => a.say(join({ options: { url: 'ws://hub.invalid/ws', id: 5, token } }))).not.toThrow()
    await settle()
    const statuses = a.got.flatMap((m) => (m.type === 'out' ? m.items : [])).filter(([kind]) => kind === 'status')
    expect(statuses.at(-1)?.[1]).toMatchObject({ state: 'failed', detail: expect.stringMatching(/snowflake/) })
    expect(JSON.stringify(a.got)).not.toContain(token)
    // Another port of the same target is welcomed with it.
    const b = scriptedPort()
    h.connect(b.port)
    b.say(join())
    expect(b.got[0]).toMatchObject({ type: 'welcome', status: { state: 'failed' } })
  })

  it('passes a port’s reconnect to its upstream', async () => {
    const { hub: h, fakes } = hub()
    const a = scriptedPort()
    h.connect(a.port)
    a.say(join())
    await until(() => fakes.sockets.length === 1)
    fakes.last().handshake()
    a.say({ type: 'reconnect' })
    await until(() => fakes.sockets.length === 2)
    expect(fakes.sockets[0]?.closedByClient).toBeDefined()
  })

  it('lets a tab’s join go when its lock is granted (the tab is gone or hidden), closing the upstream it was the last of, and serves the port again', async () => {
    const { locks, asked } = manualLocks()
    const { hub: h, fakes } = hub(locks)
    void asked[0]?.grant()
    const a = scriptedPort()
    h.connect(a.port)
    a.say(join({ lock: 'tab-lock-a' }))
    await until(() => fakes.sockets.length === 1)
    const watch = asked.find((x) => x.name === 'tab-lock-a')
    expect(watch).toBeDefined()
    void watch?.grant()
    expect(fakes.last().closedByClient).toMatchObject({ code: 1000 })
    // A tab lets its lock go on pagehide too, and joins again on the same port when the page is
    // restored from the back-forward cache: the port is still served.
    a.got.length = 0
    a.say(join())
    expect(a.types()).toEqual(['welcome'])
  })

  it('relays the upstream’s record writes, after the events before them, only to tabs that keep a record', async () => {
    const { locks, asked } = manualLocks()
    const { hub: h, fakes } = hub(locks)
    void asked[0]?.grant()
    const a = scriptedPort()
    h.connect(a.port)
    a.say(join({ record: recordText({ ledger: {} }) }))
    await until(() => fakes.sockets.length === 1)
    fakes.last().handshake()
    await settle()
    a.got.length = 0
    fakes.last().frame(joinFrames(vote(5)))
    await settle()
    // The frame's events first, then the record that marks them delivered.
    expect(a.types()).toEqual(['out', 'store'])
    const stored = a.got[1] as Extract<HubMessage, { type: 'store' }>
    expect(stored.key).toMatch(/^fates-rx:/)
    expect(stored.text).not.toContain(token)
    // Only a welcome carries the hub's lock (which this hub holds).
    expect(stored).not.toHaveProperty('lock')
    expect(parseRecord(stored.text)?.mark).toMatchObject({ ts: 1_700_000_005 })

    // A tab without a record gets no writes.
    const { hub: plain, fakes: plainFakes } = hub()
    const b = scriptedPort()
    plain.connect(b.port)
    b.say(join())
    await until(() => plainFakes.sockets.length === 1)
    plainFakes.last().handshake()
    plainFakes.last().frame(joinFrames(vote(6)))
    await settle()
    expect(b.types()).not.toContain('store')
  })

  it('starts the upstream from the tab’s mark, with a record or without: its first connection asks for the history since', async () => {
    const identify = async (extra: Partial<HubJoin>) => {
      const { hub: h, fakes } = hub()
      const a = scriptedPort()
      h.connect(a.port)
      a.say(join(extra))
      await until(() => fakes.sockets.length === 1)
      fakes.last().open().frame(joinFrames({ control: true, code: 'identity' }))
      return JSON.parse(fakes.last().sent[0] ?? '{}') as Record<string, unknown>
    }
    const from = { ts: 1_700_000_000, eid: 'mark-eid' }
    expect(await identify({ from })).toMatchObject({ id, send_all: true })
    expect(await identify({ from, record: recordText({ ledger: {} }) })).toMatchObject({ send_all: true })
    // A tab with no mark of its own (a new tab) starts from its record's.
    expect(await identify({ record: recordText({ ledger: {}, mark: from }) })).toMatchObject({ send_all: true })
    expect(await identify({ record: recordText({ ledger: {} }) })).toMatchObject({ send_all: false })
    expect(await identify({})).toMatchObject({ send_all: false })
  })

  it('lets a gone tab’s port go (a worker outlives every reload of its tabs), and holds it again if it joins again', async () => {
    const { locks, asked } = manualLocks()
    const { hub: h } = hub(locks)
    void asked[0]?.grant()
    const gone = async (rejoin: boolean): Promise<WeakRef<WorkerPortLike>> => {
      let a: ReturnType<typeof scriptedPort> | undefined = scriptedPort()
      h.connect(a.port)
      a.say(join({ lock: `tab-lock-${String(rejoin)}` }))
      void asked.find((x) => x.name === `tab-lock-${String(rejoin)}`)?.grant()
      if (rejoin) {
        a.say(join())
        expect(a.got.at(-1)?.type).toBe('welcome')
      } else {
        // Its leave, arriving after the lock it let go: no reason to hold the port again.
        a.say({ type: 'leave' })
      }
      const ref = new WeakRef(a.port)
      a = undefined
      return ref
    }
    const freed = await gone(false)
    const rejoined = await gone(true)
    // A WeakRef holds its target until the task that made it ends.
    await settle()
    collect()
    expect(freed.deref()).toBeUndefined()
    expect(rejoined.deref()).toBeDefined()
  })

  it('keeps serving a tab that left and joined again on its port before its old lock was granted', async () => {
    const { locks, asked } = manualLocks()
    const { hub: h, fakes } = hub(locks)
    void asked[0]?.grant()
    const a = scriptedPort()
    const b = scriptedPort()
    h.connect(a.port)
    h.connect(b.port)
    b.say(join())
    a.say(join({ lock: 'old' }))
    a.say({ type: 'leave' })
    a.say(join({ lock: 'new' }))
    await until(() => fakes.sockets.length === 1)
    fakes.last().handshake()
    void asked.find((x) => x.name === 'old')?.grant()
    a.got.length = 0
    fakes.last().frame(joinFrames(vote(9)))
    await settle()
    expect(a.types()).toEqual(['out'])
  })
})

describe('createHub: the identify ledger across tabs that do and do not persist', () => {
  it('does not let a persisting tab’s older record undo what the target’s upstreams spent since', async () => {
    const { hub: h, fakes } = hub()
    // A tab that persists opens the target's first upstream, and keeps its record's writes.
    const p = scriptedPort()
    h.connect(p.port)
    p.say(join({ record: recordText({ ledger: {} }) }))
    await until(() => fakes.sockets.length === 1)
    fakes.last().handshake(Protocol.rateLimit - Protocol.identifyCost).frame(joinFrames(vote(1)))
    await settle()
    const kept = p.got.filter((m): m is Extract<HubMessage, { type: 'store' }> => m.type === 'store').at(-1)?.text
    expect(parseRecord(kept)?.ledger).toMatchObject({ remaining: Protocol.rateLimit - Protocol.identifyCost })
    p.say({ type: 'leave' })
    // Then a tab of the same target without persist (persist is not part of the target's name)
    // spends the rest of the window, one upstream after another.
    const n = scriptedPort()
    h.connect(n.port)
    const sessions = Protocol.rateLimit / Protocol.identifyCost
    for (let i = 2; i <= sessions; i++) {
      n.say(join())
      await until(() => fakes.sockets.length === i)
      fakes.last().handshake(Protocol.rateLimit - Protocol.identifyCost * i).frame(joinFrames(vote(i)))
      await settle()
      n.say({ type: 'leave' })
    }
    // The persisting tab comes back with its record, which knows of one identify only: the hub
    // knows of ten, and an eleventh would be refused (4012). It waits for the window instead.
    p.got.length = 0
    p.say(join({ record: kept ?? '' }))
    const waiting = () => p.got.flatMap((m) => (m.type === 'out' ? m.items : [])).some(([kind, value]) => kind === 'status' && /0 requests left in the ratelimit window/.test(JSON.stringify(value)))
    await until(() => waiting() || fakes.sockets.length > sessions)
    await settle()
    expect(fakes.sockets).toHaveLength(sessions)
    expect(waiting()).toBe(true)
    p.say({ type: 'leave' })
  })
})
