// Tabs sharing one connection, in memory, for the tabs' interpreter tests (connect.tabs.test.ts,
// tabs.edges.test.ts): a virtual clock for the timers, the memory browser's locks and channels
// for the tabs, fake sockets per tab (so that a socket is always the tab's own), and every
// stream of each tab recorded. Locks and channels settle in microtasks: settle(). The digest is
// node's, in the same task, so that the tabs meet in a known order; `subtle` uses
// crypto.subtle's, as browsers do.
import { createHash } from 'node:crypto'
import type { ControlPayload, ReceivedEvent } from '../codec/index.js'
import type { Diagnostic } from '../operators/index.js'
import { memoryBrowser, type MemoryBrowser } from '../testing/index.js'
import { connect } from '../client/connection/connect.js'
import type { ConnectionMetrics } from '../client/connection/metrics.js'
import type { ConnectOptions } from '../client/options.js'
import type { ConnectionStatus } from '../client/connection/status.js'
import type { TabsEnvironment } from '../client/tabs/tab-support.js'
import { Clock, fakeWebSockets } from './frames.js'

export const id = '811073947382579200'
export const token = 'tok-shared-secret'

/** A few turns of the event loop: enough for the memory locks and channels to settle. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 8; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** SHA-256 in the same task (node's), so that tabs key themselves in the order they open. */
export const digest = (text: string): Promise<string> => Promise.resolve(createHash('sha256').update(text).digest('hex'))

/** Everything a tab's client emitted, stream by stream, and how to leave. */
export function recorded(client: ReturnType<typeof connect>) {
  const seen = {
    statuses: [] as ConnectionStatus[],
    events: [] as ReceivedEvent[],
    frames: [] as string[],
    controls: [] as ControlPayload[],
    diagnostics: [] as Diagnostic[],
    metrics: [] as ConnectionMetrics[],
  }
  const subscriptions = [
    client.status$.subscribe((s) => seen.statuses.push(s)),
    client.event$.subscribe((e) => seen.events.push(e)),
    client.frame$.subscribe((f) => seen.frames.push(f)),
    client.control$.subscribe((c) => seen.controls.push(c)),
    client.diagnostic$.subscribe((d) => seen.diagnostics.push(d)),
    client.metrics$.subscribe((m) => seen.metrics.push(m)),
  ]
  return { ...seen, leave: () => subscriptions.forEach((s) => s.unsubscribe()) }
}

/** A browser of tabs; `open()` makes one more tab with a shared client, its environment adjustable. */
export function tabs(browser: MemoryBrowser = memoryBrowser(), clock = new Clock(), subtle = false) {
  const open = (extra: Partial<ConnectOptions> = {}, environment?: (tab: TabsEnvironment) => TabsEnvironment) => {
    const tab = browser.tab()
    const fakes = fakeWebSockets()
    const shared = subtle ? tab.environment : { ...tab.environment, digest }
    const client = connect({
      url: 'ws://127.0.0.1:9/ws',
      id,
      token,
      WebSocket: fakes.WebSocket,
      scheduler: clock,
      random: Math.random,
      shareAcrossTabs: environment === undefined ? shared : environment(shared),
      ...extra,
    })
    const seen = recorded(client)
    return {
      ...fakes,
      ...seen,
      tab,
      client,
      eids: () => seen.events.map((e) => e.m.eid),
      status: (): ConnectionStatus | undefined => seen.statuses.at(-1),
    }
  }
  return { browser, clock, open }
}

/**
 * A browser with a leader tab and then a follower, each settled in turn (the follower welcomed
 * before any handshake); `extra` for both.
 */
export async function leaderAndFollower(extra: Partial<ConnectOptions> = {}) {
  const t = tabs()
  const leader = t.open(extra)
  await settle()
  const follower = t.open(extra)
  await settle()
  return { t, leader, follower }
}
