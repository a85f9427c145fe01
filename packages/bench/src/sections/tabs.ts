/**
 * Section `tabs`: what a follower tab costs per event. In one process, on fake sockets fed the
 * same frames, one frame per task of the event loop (as a socket delivers them), in rounds:
 * (a) an unshared `connect()` (the baseline); (b) a shared connection, its leader and one
 * follower on this one thread, timed until the follower has delivered every event (the
 * leader's posting, the structured clone both ways over Node's real `BroadcastChannel`, the
 * follower's own dedupe). (b) − (a) per event is what a follower costs. (c) a tab served
 * through the SharedWorker's hub (`createHub`, as `startHub` runs it), over Node's real
 * MessageChannel (a structured clone each way, as a browser's port), timed until the tab has
 * delivered every event: the hub's upstream client, its fan-out, and the tab's dedupe. The
 * locks are the memory browser's (Node has no Web Locks).
 *
 * @packageDocumentation
 */
import { MessageChannel, BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads'
import { createHash } from 'node:crypto'
import { connect, type FatesClient, type TabChannel, type TabsEnvironment } from '@fates-rx/core'
import { fakeWebSockets, type FakeWebSocket, joinFrames, memoryBrowser } from '@fates-rx/core/testing'
import { createHub, type SharedWorkerLike, type WorkerPortLike } from '@fates-rx/core/worker'
import type { Row } from '../harness.js'
import { median } from '../stats.js'
import { BenchToken } from '../consumers.js'

/** Options of {@link benchTabs}. */
export interface TabsOptions {
  /** Events per round. @default 50_000 */
  readonly events?: number
  /** Events per frame. @default 10 */
  readonly perFrame?: number
  /** Measured rounds (after one warm-up). @default 5 */
  readonly rounds?: number
}

const id = '811073947382579200'
// The other sections' token (made as Fates List made its tokens), so that redacting it costs
// here what it costs there.
const token = BenchToken
const digest = (text: string): Promise<string> => Promise.resolve(createHash('sha256').update(text).digest('hex'))

/** Node's BroadcastChannel as a TabChannel: `onmessage` receives a MessageEvent, as in browsers. */
class Channel implements TabChannel {
  private readonly channel: NodeBroadcastChannel
  onmessage: TabChannel['onmessage'] = null
  constructor(name: string) {
    this.channel = new NodeBroadcastChannel(name)
    this.channel.onmessage = (event) => this.onmessage?.({ data: (event as MessageEvent).data })
  }
  postMessage(message: unknown): void {
    this.channel.postMessage(message)
  }
  close(): void {
    this.channel.close()
  }
}

function frames(events: number, perFrame: number, round: number): string[] {
  const out: string[] = []
  const ts = 1_700_000_000 + round * events
  for (let i = 0; i < events; i += perFrame) {
    const payloads: object[] = []
    for (let j = i; j < Math.min(events, i + perFrame); j++) {
      payloads.push({ m: { e: 3, eid: `r${round}-${j}`, ts: ts + j, t: -1 }, ctx: { user: '510065483693817867', votes: j } })
    }
    out.push(joinFrames(...payloads))
  }
  return out
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A client whose events are counted; resolves `done` once `events` have arrived. */
function counted(client: FatesClient, events: number) {
  let seen = 0
  let finish: () => void = () => {}
  const done = new Promise<void>((resolve) => (finish = resolve))
  const subscriptions = [
    client.status$.subscribe(() => {}),
    client.event$.subscribe(() => {
      if (++seen === events) finish()
    }),
  ]
  return { done, seen: () => seen, leave: () => subscriptions.forEach((s) => s.unsubscribe()) }
}

async function handshake(socket: () => FakeWebSocket): Promise<FakeWebSocket> {
  // The shared client loads its chunk and digests first: allow it a few seconds.
  for (let i = 0; i < 2_000; i++) {
    try {
      return socket().handshake()
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  throw new Error('no socket was opened')
}

/** One round: seconds for (a) and (b) on the same frames. */
async function round(events: number, perFrame: number, n: number): Promise<{ unshared: number; follower: number; worker: number }> {
  const input = frames(events, perFrame, n)

  // (a) unshared
  const alone = fakeWebSockets()
  const unshared = counted(connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: alone.WebSocket }), events)
  const a = await handshake(() => alone.last())
  // Each frame in a task of its own, as a socket delivers them (and as the leader batches).
  let t0 = process.hrtime.bigint()
  for (const frame of input) {
    a.frame(frame)
    await settle()
  }
  await unshared.done
  const unsharedSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  unshared.leave()

  // (b): a leader and one follower.
  const browser = memoryBrowser()
  const [first, second] = [browser.tab(), browser.tab()].map((tab): TabsEnvironment => ({ ...tab.environment, BroadcastChannel: Channel, digest })) as [TabsEnvironment, TabsEnvironment]
  const sockets = fakeWebSockets()
  const leader = counted(connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: sockets.WebSocket, shareAcrossTabs: first }), events)
  const b = await handshake(() => sockets.last())
  const followerSockets = fakeWebSockets()
  const follower = counted(connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: followerSockets.WebSocket, shareAcrossTabs: second }), events)
  // Until the leader has welcomed the follower (its count says 2).
  for (let i = 0; i < 200 && follower.seen() === 0; i++) {
    b.frame(joinFrames({ m: { e: 3, eid: `warm-${n}-${i}`, ts: 1, t: -1 }, ctx: { user: '1', votes: 0 } }))
    await settle()
  }
  if (followerSockets.sockets.length !== 0) throw new Error('the follower opened a socket')
  const before = { leader: leader.seen(), follower: follower.seen() }
  t0 = process.hrtime.bigint()
  for (const frame of input) {
    b.frame(frame)
    await settle()
  }
  // The follower delivers on later turns of the event loop: wait for all of them.
  for (let i = 0; follower.seen() - before.follower < events; i++) {
    if (i > 1e6) throw new Error(`the follower delivered ${follower.seen() - before.follower} of ${events}`)
    await settle()
  }
  const followerSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  if (leader.seen() - before.leader !== events) throw new Error(`the leader delivered ${leader.seen() - before.leader} of ${events}`)
  follower.leave()
  leader.leave()
  await settle()

  // (c): one tab through the worker's hub.
  const hubSockets = fakeWebSockets()
  const hub = createHub({ locks: browser.tab().environment.locks, connect: { WebSocket: hubSockets.WebSocket } })
  const channels: MessageChannel[] = []
  const worker = (): SharedWorkerLike => {
    const channel = new MessageChannel()
    channels.push(channel)
    const hubPort: WorkerPortLike = { postMessage: (message) => channel.port1.postMessage(message), onmessage: null }
    channel.port1.on('message', (data: unknown) => hubPort.onmessage?.({ data }))
    hub.connect(hubPort)
    const port: WorkerPortLike = { postMessage: (message) => channel.port2.postMessage(message), onmessage: null }
    channel.port2.on('message', (data: unknown) => port.onmessage?.({ data }))
    return { port }
  }
  const tab = counted(connect({ url: 'ws://127.0.0.1:9/ws', id, token, shareAcrossTabs: { worker, digest, locks: browser.tab().environment.locks } }), events)
  const c = await handshake(() => hubSockets.last())
  for (let i = 0; i < 200 && tab.seen() === 0; i++) {
    c.frame(joinFrames({ m: { e: 3, eid: `warm-w-${n}-${i}`, ts: 1, t: -1 }, ctx: { user: '1', votes: 0 } }))
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  const already = tab.seen()
  t0 = process.hrtime.bigint()
  for (const frame of input) {
    c.frame(frame)
    await settle()
  }
  for (let i = 0; tab.seen() - already < events; i++) {
    if (i > 1e6) throw new Error(`the worker's tab delivered ${tab.seen() - already} of ${events}`)
    await settle()
  }
  const workerSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  tab.leave()
  await settle()
  for (const channel of channels) {
    channel.port1.close()
    channel.port2.close()
  }
  return { unshared: unsharedSeconds, follower: followerSeconds, worker: workerSeconds }
}

/** The section's rows: the unshared client, the leader and the follower, ratios to the first. */
export async function benchTabs(options: TabsOptions = {}): Promise<Row[]> {
  const events = options.events ?? 50_000
  const perFrame = options.perFrame ?? 10
  const rounds = options.rounds ?? 5
  const samples: Array<{ unshared: number; follower: number; worker: number }> = []
  for (let n = 0; n < rounds + 1; n++) {
    const sample = await round(events, perFrame, n)
    if (n > 0) samples.push(sample)
  }
  const params = { section: 'tabs', events, perFrame, rounds }
  const rate = (seconds: number): number => Math.round(events / seconds)
  const row = (name: string, pick: (s: (typeof samples)[number]) => number, baseline?: string): Row => {
    const ratio = baseline === undefined ? null : Math.round(median(samples.map((s) => s.unshared / pick(s))) * 1000) / 1000
    return {
      name,
      eventsPerSecond: rate(median(samples.map(pick))),
      ratio,
      ...(baseline === undefined ? {} : { baseline }),
      params,
      metrics: { microsecondsPerEvent: Math.round((median(samples.map(pick)) / events) * 1e7) / 10 },
    }
  }
  const base = 'connect() unshared, in process'
  const unshared = median(samples.map((s) => s.unshared)) / events
  const shared = median(samples.map((s) => s.follower)) / events
  const sharedRow = row('shareAcrossTabs: leader + 1 follower, one thread', (s) => s.follower, base)
  return [
    row(base, (s) => s.unshared),
    {
      ...sharedRow,
      // Both tabs run on this one thread, so the follower's cost is what sharing added: the
      // leader's posting, the structured clone both ways, the follower's dedupe and delivery.
      metrics: { ...sharedRow.metrics, followerMicrosecondsPerEvent: Math.round((shared - unshared) * 1e7) / 10 },
    },
    // The hub and the tab on this one thread too: the whole path of an event through a worker.
    row('shareAcrossTabs: { worker }: a tab through the hub, over a MessageChannel', (s) => s.worker, base),
  ]
}
