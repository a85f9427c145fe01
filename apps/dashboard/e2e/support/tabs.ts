import { randomUUID } from 'node:crypto'
import { type RunningServer, startServer } from '@fates-rx/server'
import { type BrowserContext, expect, type Locator, type Page } from '@playwright/test'
import { tileNumber } from './page.js'

/** A bot of its own per spec: the ratelimit counter (the original's) is per identity. */
export interface TabsBot {
  readonly id: string
  readonly token: string
}

/** The tabs specs' own server: the original's ratelimit, an admin token for /publish and /metrics. */
export interface TabsServer {
  readonly running: RunningServer
  readonly url: string
  /** `POST /publish` over HTTP, one request for the whole batch; resolves once stored. */
  publish(events: readonly TestEvent[]): Promise<void>
  /** One sample of `GET /metrics` (`name{labels}`), 0 when absent. */
  metric(series: string): Promise<number>
  /** Identifies the server answered with `ready`. */
  identified(): Promise<number>
  close(): Promise<void>
}

/**
 * Starts a server with no demo traffic and the server's default (the original's) ratelimit:
 * 20 requests per window, an identify costs 2; the window is the original's 7 minutes unless
 * `rateWindowMs` says otherwise (`--rate-window`).
 */
export async function startTabsServer(bot: TabsBot, options: { readonly rateWindowMs?: number } = {}): Promise<TabsServer> {
  const adminToken = `tabs-admin-${randomUUID()}`
  const running = await startServer({ host: '127.0.0.1', port: 0, bots: [bot], adminToken, ...options })
  const http = `http://127.0.0.1:${running.port}`
  const metric = async (series: string): Promise<number> => {
    const response = await fetch(`${http}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })
    const text = await response.text()
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return line === undefined ? 0 : Number(line.slice(series.length + 1))
  }
  return {
    running,
    url: running.url,
    async publish(events) {
      const response = await fetch(`${http}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(events.map((event) => ({ channel: `bot-${bot.id}`, event }))),
      })
      if (!response.ok) throw new Error(`publish failed: ${response.status} ${await response.text()}`)
    },
    metric,
    identified: () => metric('fates_identifies_total{outcome="ready"}'),
    close: () => running.close(),
  }
}

/** What the specs publish: a bot event as the original's producer writes it. */
export interface TestEvent {
  readonly m: { readonly e: number; readonly eid: string; readonly ts: number; readonly t: number }
  readonly ctx: { readonly user: string; readonly votes?: number; readonly [key: string]: unknown }
}

let votes = 0
/** A bot vote with a fresh eid, now as its `m.ts`, and a vote count that only grows. */
export const vote = (eid: string = randomUUID()): TestEvent & { ctx: { votes: number } } => ({
  m: { e: 0, eid, ts: Date.now() / 1000, t: -1 },
  ctx: { user: String(563808552288780000n + BigInt(votes)), votes: (votes += 1), test: false },
})
/** A bot view with a fresh eid. */
export const view = (): TestEvent => ({
  m: { e: 16, eid: randomUUID(), ts: Date.now() / 1000, t: -1 },
  ctx: { user: '563808552288780001', widget: false },
})

/** What a {@link steadyPublisher} has published so far. */
export interface Tally {
  events: number
  votes: number
  views: number
  /** The vote count of the newest vote. */
  lastVote: number
}

/**
 * Publishes through `POST /publish`, one request per event, two votes then a view, about 20
 * events a second, until stopped; `stop()` resolves once the last publish was answered.
 */
export function steadyPublisher(server: TabsServer, everyMs = 40): { readonly tally: Readonly<Tally>; stop(): Promise<void> } {
  const tally: Tally = { events: 0, votes: 0, views: 0, lastVote: 0 }
  let running = true
  const done = (async () => {
    while (running) {
      if (tally.events % 3 === 2) {
        await server.publish([view()])
        tally.views += 1
      } else {
        const event = vote()
        await server.publish([event])
        tally.votes += 1
        tally.lastVote = event.ctx.votes
      }
      tally.events += 1
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    tally,
    stop: async () => {
      running = false
      await done
    },
  }
}

/**
 * Makes every page of the context open the dashboard with one panel for `target`, connected on
 * load (the same prefill `pnpm start` serves), so that a reload reconnects by itself.
 */
export async function prefill(
  context: BrowserContext | Page,
  target: { readonly url: string; readonly rateWindowMs?: number } & TabsBot,
): Promise<void> {
  await context.route('**/demo-target.json', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'application/json',
      headers: { 'cache-control': 'no-store' },
      body: JSON.stringify({ kind: 'bot', autoConnect: true, ...target }),
    }),
  )
}

/** Counts, per page, the websockets opened to `url` (Vite's own HMR socket is not counted). */
export function countSockets(context: BrowserContext, url: string): Map<Page, number> {
  const sockets = new Map<Page, number>()
  const track = (page: Page): void => {
    sockets.set(page, sockets.get(page) ?? 0)
    page.on('websocket', (socket) => {
      if (socket.url() === url) sockets.set(page, (sockets.get(page) ?? 0) + 1)
    })
  }
  for (const page of context.pages()) track(page)
  context.on('page', track)
  return sockets
}

/** The sum of all counts. */
export const total = (counts: Map<Page, number>): number => [...counts.values()].reduce((a, b) => a + b, 0)

/** The first panel of a page. */
export const panelOf = (page: Page): Locator => page.getByTestId('target').first()

/** The panel's tabs line (`data-testid=tabs`): its role and count, as the page shows them. */
export async function tabsOf(page: Page): Promise<{ role: string; count: number } | undefined> {
  const line = panelOf(page).getByTestId('tabs')
  if ((await line.count()) === 0) return undefined
  const text = (await line.textContent()) ?? ''
  const role = /\bleader\b/i.test(text) ? 'leader' : /\bfollower\b/i.test(text) ? 'follower' : '?'
  const count = Number(/(\d+) tabs?\b/.exec(text)?.[1] ?? (role === 'leader' ? 1 : Number.NaN))
  return { role, count }
}

/** Waits until the page's panel says it is live and shows its part in a shared connection. */
export async function expectLiveTab(page: Page, role?: 'leader' | 'follower' | 'worker'): Promise<void> {
  const panel = panelOf(page)
  await expect(panel.getByTestId('status').locator('.headline')).toHaveText('Live')
  await expect(panel.getByTestId('tabs')).toHaveText(role === undefined ? /leader|follower|worker/i : new RegExp(role, 'i'))
}

/** The page whose panel says it leads. */
export async function leaderOf(pages: readonly Page[]): Promise<Page> {
  for (const page of pages) if ((await tabsOf(page))?.role === 'leader') return page
  throw new Error('no tab says it leads')
}

/** The counts a tab shows: all events, votes, views and the newest vote count. */
export async function countsOf(page: Page): Promise<readonly number[]> {
  const panel = panelOf(page)
  return Promise.all(['events', 'votes', 'views', 'latest-vote'].map((id) => tileNumber(panel, id)))
}

/**
 * Deletes `SharedWorker` from every page of the context before its scripts run, as a browser
 * without one (Chrome on Android) has it: `shareAcrossTabs: { worker }` then falls back to the
 * tabs' election, which the specs that count a page's sockets and its leader test.
 */
export async function withoutSharedWorker(context: BrowserContext | Page): Promise<void> {
  await context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker
  })
}
