// The dashboard's connection in a SharedWorker (src/fates-worker.ts, made by client.ts through
// Vite's `new SharedWorker(new URL(...))`): tabs are its ports. Each spec has its own server at
// the original's ratelimit and its own bot; upstream connections are counted at the server
// (`GET /metrics`: identifies answered with ready, and the connections open), since a worker's
// socket belongs to no page.
import { randomUUID } from 'node:crypto'
import { type Browser, type BrowserContext, expect, type Page, test } from '@playwright/test'
import { panelOf, prefill, startTabsServer, type TabsServer, vote } from './support/tabs.js'

test.describe.configure({ timeout: 120_000 })

const headline = (page: Page) => panelOf(page).getByTestId('status').locator('.headline')
const tabsLine = (page: Page) => panelOf(page).getByTestId('tabs')

/** The vote counts (`ctx.votes`) of the votes in the page's feed, oldest first. */
async function shownVotes(page: Page): Promise<number[]> {
  const fields = await panelOf(page).getByTestId('feed').locator('.feed-fields').allTextContents()
  return fields
    .map((text) => /votes: (\d+)/.exec(text)?.[1])
    .filter((votes): votes is string => votes !== undefined)
    .map(Number)
    .reverse()
}

async function openTab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto('/')
  return page
}

/** Open websocket connections at the server, in any state. */
async function openConnections(server: TabsServer): Promise<number> {
  const states = ['waiting', 'identifying', 'ready', 'closing']
  const counts = await Promise.all(states.map((state) => server.metric(`fates_connections{state="${state}"}`)))
  return counts.reduce((a, b) => a + b, 0)
}

test('three tabs, each reloaded three times with a vote published during each reload: one upstream connection, every vote shown once by every tab', async ({
  context,
}) => {
  const bot = { id: '811073947382579601', token: `worker-a-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const pages = [await openTab(context), await openTab(context), await openTab(context)]
    for (const page of pages) {
      await expect(headline(page)).toHaveText('Live')
      await expect(tabsLine(page)).toHaveAttribute('data-role', 'worker')
    }
    for (const page of pages) await expect(tabsLine(page)).toHaveAttribute('data-count', '3')

    // The dashboard keeps its numbers per target in localStorage, shared by the tabs of the origin
    // (issue 18 item 4): a reloaded tab starts from what the tabs kept, the hub fills in what it
    // had not (`welcome.history`), and the kept eids drop what both have. So after every reload
    // every tab's feed holds every vote published so far, each once.
    const published: number[] = []
    for (let round = 0; round < 3; round += 1) {
      for (const page of pages) {
        // Away (its port gone) while the vote is published; the other two tabs keep the socket.
        await page.goto('about:blank')
        const during = vote()
        await server.publish([during])
        published.push(during.ctx.votes)
        await page.goto('/')
        await expect(headline(page)).toHaveText('Live')
        await expect.poll(() => shownVotes(page)).toEqual(published)
      }
    }
    await Promise.all(pages.map((page) => page.waitForTimeout(1_000)))
    for (const [i, page] of pages.entries()) {
      expect(await shownVotes(page), `tab ${i + 1}`).toEqual(published)
      await expect(tabsLine(page)).toHaveAttribute('data-count', '3')
    }
    expect(await server.identified()).toBe(1)
    expect(await openConnections(server)).toBe(1)

    // The socket closes when the last port goes.
    for (const page of pages) await page.close()
    await expect.poll(() => openConnections(server)).toBe(0)
    expect(await server.identified()).toBe(1)
  } finally {
    await server.close()
  }
})

test('a worker that fails to load falls back to the tabs electing a leader', async ({ context }) => {
  const bot = { id: '811073947382579602', token: `worker-b-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    // The worker's script, as a crash at start or a failed deployment leaves it.
    await context.route('**/fates-worker*', (route) => route.abort())
    const first = await openTab(context)
    const second = await openTab(context)
    for (const page of [first, second]) await expect(headline(page)).toHaveText('Live')
    const roles = await Promise.all([first, second].map((page) => tabsLine(page).getAttribute('data-role')))
    expect(roles.sort()).toEqual(['follower', 'leader'])
    await server.publish([vote()])
    for (const page of [first, second]) await expect.poll(() => shownVotes(page).then((v) => v.length)).toBe(1)
    expect(await server.identified()).toBe(1)
  } finally {
    await server.close()
  }
})

/** Stops the page's SharedWorker as a crash would (Chrome's DevTools protocol closes its target). */
async function stopSharedWorkers(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession()
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string }> }
  const workers = targetInfos.filter((target) => target.type === 'shared_worker')
  for (const target of workers) await cdp.send('Target.closeTarget', { targetId: target.targetId })
  await cdp.detach()
  return workers.length
}

test('tabs that outlive their SharedWorker join a new one and miss no vote', async ({ browser, context }) => {
  const bot = { id: '811073947382579603', token: `worker-c-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const pages = [await openTab(context), await openTab(context)]
    for (const page of pages) await expect(tabsLine(page)).toHaveAttribute('data-count', '2')
    const before = vote()
    await server.publish([before])
    for (const page of pages) await expect.poll(() => shownVotes(page)).toEqual([before.ctx.votes])

    expect(await stopSharedWorkers(browser)).toBe(1)
    const during = vote()
    await server.publish([during])
    for (const page of pages) {
      await expect.poll(() => shownVotes(page)).toEqual([before.ctx.votes, during.ctx.votes])
      await expect(tabsLine(page)).toHaveAttribute('data-role', 'worker')
    }
    const after = vote()
    await server.publish([after])
    for (const page of pages) await expect.poll(() => shownVotes(page)).toEqual([before.ctx.votes, during.ctx.votes, after.ctx.votes])
    // The new worker's one identify.
    expect(await server.identified()).toBe(2)
  } finally {
    await server.close()
  }
})
