// Tabs of one browser share one connection (`shareAcrossTabs`): several pages of one context,
// each spec with its own server at the original's ratelimit (20 requests per 7 minutes, an
// identify costs 2) and its own bot, so that identifies and sockets can be counted exactly.
import { randomUUID } from 'node:crypto'
import { type BrowserContext, expect, type Page, test } from '@playwright/test'
import {
  countSockets,
  countsOf,
  expectLiveTab,
  leaderOf,
  panelOf,
  prefill,
  startTabsServer,
  steadyPublisher,
  tabsOf,
  total,
  view,
  vote,
  withoutSharedWorker,
} from './support/tabs.js'

// The tabs' election, the fallback where there is no SharedWorker (worker.e2e.ts tests the worker).
test.beforeEach(({ context }) => withoutSharedWorker(context))

test.describe.configure({ timeout: 90_000 })

/** Opens `n` tabs of the dashboard in the context, one after the other. */
async function openTabs(context: BrowserContext, n: number): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < n; i += 1) {
    const page = await context.newPage()
    await page.goto('/')
    pages.push(page)
  }
  return pages
}

/** The roles the tabs show, sorted, and the counts they show. */
async function parts(pages: readonly Page[]): Promise<{ roles: string[]; counts: number[] }> {
  const all = await Promise.all(pages.map(tabsOf))
  return { roles: all.map((t) => t?.role ?? 'none').sort(), counts: all.map((t) => t?.count ?? 0) }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

test('five tabs of one target open exactly one websocket between them and show the same live counts', async ({ context }) => {
  const bot = { id: '811073947382579401', token: `tabs-a-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const sockets = countSockets(context, server.url)
    const pages = await openTabs(context, 5)
    for (const page of pages) await expectLiveTab(page)
    await expect.poll(() => parts(pages)).toEqual({
      roles: ['follower', 'follower', 'follower', 'follower', 'leader'],
      counts: [5, 5, 5, 5, 5],
    })

    // Every tab counts from its own first live moment; all five were live before the publish.
    const events = [...Array.from({ length: 12 }, () => vote()), ...Array.from({ length: 8 }, view)]
    await server.publish(events)
    const newestVote = (events[11] as ReturnType<typeof vote>).ctx.votes
    for (const page of pages) await expect.poll(() => countsOf(page)).toEqual([20, 12, 8, newestVote])

    // One socket in the browser, one connection and one identify on the server.
    expect(total(sockets)).toBe(1)
    expect(await server.metric('fates_connections{state="ready"}')).toBe(1)
    expect(await server.identified()).toBe(1)
  } finally {
    await server.close()
  }
})

test('closing the leader tab hands over within 2 s, and events published meanwhile count exactly once in every remaining tab', async ({
  context,
}) => {
  const bot = { id: '811073947382579402', token: `tabs-b-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const sockets = countSockets(context, server.url)
    const pages = await openTabs(context, 4)
    for (const page of pages) await expectLiveTab(page)
    await expect.poll(() => parts(pages)).toEqual({ roles: ['follower', 'follower', 'follower', 'leader'], counts: [4, 4, 4, 4] })

    // A steady stream through POST /publish, before, during and after the handover; all four
    // tabs are live, so each remaining one must count every event of it, once.
    const publisher = steadyPublisher(server)
    try {
      await sleep(500)
      const leader = await leaderOf(pages)
      const rest = pages.filter((page) => page !== leader)
      const closedAt = Date.now()
      await leader.close()
      await expect
        .poll(async () => (await parts(rest)).roles, { timeout: 2_000, intervals: [50] })
        .toEqual(['follower', 'follower', 'leader'])
      // ... and holds a live connection within 2 s plus the first backoff a drop would get
      // (at most 500 ms by default).
      const newLeader = await leaderOf(rest)
      const budget = closedAt + 2_000 + 500 - Date.now()
      await expect(panelOf(newLeader).getByTestId('status').locator('.headline')).toHaveText('Live', { timeout: Math.max(1, budget) })
      test.info().annotations.push({ type: 'handover', description: `live again ${Date.now() - closedAt} ms after the close` })
      await sleep(1_000)
      await publisher.stop()
      const { events, votes, views, lastVote } = publisher.tally
      expect(events).toBeGreaterThan(20)

      for (const page of rest) await expectLiveTab(page)
      for (const page of rest) await expect.poll(() => countsOf(page)).toEqual([events, votes, views, lastVote])
      // Nothing arrives late, either: the counts stay where they are.
      await sleep(1_500)
      for (const page of rest) expect(await countsOf(page)).toEqual([events, votes, views, lastVote])
      await expect.poll(() => parts(rest)).toEqual({ roles: ['follower', 'follower', 'leader'], counts: [3, 3, 3] })
    } finally {
      await publisher.stop()
    }
    // The old leader's socket and the new one's; two identifies.
    expect(total(sockets)).toBe(2)
    expect(await server.identified()).toBe(2)
  } finally {
    await server.close()
  }
})

test('reloading a follower tab ten times costs no identify, and a vote published during each reload counts once', async ({ context }) => {
  const bot = { id: '811073947382579403', token: `tabs-c-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const sockets = countSockets(context, server.url)
    const [leader, follower] = await openTabs(context, 2)
    await expectLiveTab(leader!, 'leader')
    await expectLiveTab(follower!, 'follower')
    const identifiedBefore = await server.identified()
    expect(identifiedBefore).toBe(1)

    // Each vote is published while the follower is away: its old page gone (the new document
    // asks for its script), its new one not yet joined.
    let published = 0
    await follower!.route(/\/src\/main\.ts/, async (route) => {
      await server.publish([vote()])
      published += 1
      // The leader has it before the follower's new page loads.
      await expect.poll(async () => (await countsOf(leader!))[0]).toBe(published)
      await route.continue()
    })
    for (let i = 0; i < 10; i += 1) {
      await follower!.reload()
      await expectLiveTab(follower!, 'follower')
      // Once: the target's kept tally (which the leader's page wrote) counted it, and the
      // leader's fill of this page's gap delivers it again, which the tally drops.
      await expect.poll(async () => (await countsOf(follower!))[0]).toBe(i + 1)
    }
    await follower!.unroute(/\/src\/main\.ts/)
    // Still live after the reloads, and receiving: a published event reaches the reloaded tab.
    await server.publish([vote()])
    await expect.poll(async () => (await countsOf(leader!))[0]).toBe(11)
    await expect.poll(async () => (await countsOf(follower!))[0]).toBe(11)

    // Ten identifies would be 20 requests: the whole window's budget, then ratelimited.
    expect(await server.identified()).toBe(identifiedBefore)
    expect(await server.metric('fates_identifies_total{outcome="ratelimited"}')).toBe(0)
    expect(sockets.get(follower!)).toBe(0)
    expect(total(sockets)).toBe(1)
    // The reloaded tab left and came back: two tabs share the connection, not eleven.
    await expect.poll(() => parts([leader!, follower!])).toEqual({ roles: ['follower', 'leader'], counts: [2, 2] })
  } finally {
    await server.close()
  }
})

test('a tab with a different token for the same id does not share, and fails on its own with the auth error', async ({
  context,
}) => {
  const bot = { id: '811073947382579404', token: `tabs-d-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const sockets = countSockets(context, server.url)
    const [good] = await openTabs(context, 1)
    await expectLiveTab(good!, 'leader')

    const wrong = await context.newPage()
    // Page routes win over the context's: this tab gets the same id with another token.
    await prefill(wrong, { url: server.url, id: bot.id, token: `${bot.token}-wrong` })
    await wrong.goto('/')
    const status = panelOf(wrong).getByTestId('status')
    await expect(status.locator('.headline')).toHaveText('Failed: not retrying')
    await expect(status).toContainText('4004')
    await expect(status).toContainText('token was rejected')
    // It never followed the good tab, and the good tab never counted it.
    await expect(panelOf(wrong).getByTestId('tabs')).not.toHaveText(/follower/i)
    expect(sockets.get(wrong)).toBe(1)
    expect(sockets.get(good!)).toBe(1)
    await expectLiveTab(good!, 'leader')
    expect((await tabsOf(good!))?.count).toBe(1)
    expect(await server.identified()).toBe(1)
    expect(await server.metric('fates_identifies_total{outcome="invalid_auth"}')).toBe(1)
  } finally {
    await server.close()
  }
})

declare global {
  interface Window {
    __posted?: { channel: string; data: string }[]
    __channels?: string[]
  }
}

test('the token never appears in a message posted between tabs', async ({ context }) => {
  const bot = { id: '811073947382579405', token: `tabs-e-secret-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    // Before any page script: every channel opened and every message posted, serialized at the
    // moment of posting (a structured clone of what the other tabs receive).
    await context.addInitScript(() => {
      const posted: { channel: string; data: string }[] = []
      const channels: string[] = []
      window.__posted = posted
      window.__channels = channels
      const bytes = (view: ArrayBufferView | ArrayBuffer): string => {
        const buffer = view instanceof ArrayBuffer ? view : view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)
        return new TextDecoder('latin1').decode(buffer as ArrayBuffer)
      }
      const serialize = (value: unknown): string =>
        JSON.stringify(value, (_key, v: unknown) => {
          if (typeof v === 'bigint') return `${v}n`
          if (v instanceof Map) return { map: [...v.entries()] }
          if (v instanceof Set) return { set: [...v] }
          if (v instanceof Error) return { error: v.name, message: v.message, cause: v.cause, stack: v.stack }
          if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { bytes: bytes(v as ArrayBuffer) }
          if (v instanceof Date) return v.toISOString()
          return v
        }) ?? String(value)
      const Native = window.BroadcastChannel
      const post = Native.prototype.postMessage
      Native.prototype.postMessage = function (this: BroadcastChannel, message: unknown) {
        posted.push({ channel: this.name, data: serialize(message) })
        return post.call(this, message)
      }
      window.BroadcastChannel = class extends Native {
        constructor(name: string) {
          super(name)
          channels.push(name)
        }
      }
    })
    await prefill(context, { url: server.url, ...bot })
    const pages = await openTabs(context, 3)
    for (const page of pages) await expectLiveTab(page)
    const proof = `proof-${randomUUID()}`
    await server.publish([vote(proof)])
    for (const page of pages) await expect.poll(async () => (await countsOf(page))[0]).toBe(1)

    // A handover too: what a new leader posts is recorded as well.
    const leader = await leaderOf(pages)
    const recorded: { channel: string; data: string }[] = []
    const channels: string[] = []
    const collect = async (page: Page): Promise<void> => {
      recorded.push(...(await page.evaluate(() => window.__posted ?? [])))
      channels.push(...(await page.evaluate(() => window.__channels ?? [])))
    }
    await collect(leader)
    await leader.close()
    const rest = pages.filter((page) => page !== leader)
    await expect.poll(async () => (await parts(rest)).roles, { timeout: 5_000 }).toEqual(['follower', 'leader'])
    await server.publish([vote()])
    for (const page of rest) await expect.poll(async () => (await countsOf(page))[0]).toBe(2)
    for (const page of rest) await collect(page)

    // The recorder saw the real traffic: messages, and the event fanned out by the leader.
    expect(recorded.length).toBeGreaterThan(3)
    expect(recorded.some((m) => m.data.includes(proof))).toBe(true)
    const encodings = [bot.token, encodeURIComponent(bot.token), Buffer.from(bot.token).toString('base64')]
    for (const text of encodings) {
      expect(recorded.filter((m) => m.data.includes(text) || m.channel.includes(text))).toEqual([])
      expect(channels.filter((name) => name.includes(text))).toEqual([])
    }
    // Named by a SHA-256 hex digest.
    expect(new Set(channels).size).toBeGreaterThan(0)
    for (const name of new Set([...channels, ...recorded.map((m) => m.channel)])) expect(name).toMatch(/^fates-rx:(?:\d+:)?[0-9a-f]{64}$/)
  } finally {
    await server.close()
  }
})
