// The dashboard keeps its numbers (issue 18 item 4): the tiles, the chart and the feed survive a
// reload and a browser restart, restored from the bounded tally in localStorage; the resumed gap
// fills in what was published meanwhile, and what the page had already counted is not counted
// again. Each spec with its own server and bot at the original's ratelimit.
import { randomUUID } from 'node:crypto'
import { type BrowserContext, expect, type Page, test } from '@playwright/test'
import { expectLiveTab, panelOf, prefill, startTabsServer, view, vote } from './support/tabs.js'

test.describe.configure({ timeout: 120_000 })

/** What the panel shows that a reload must not change: counts (not rates), feed rows, the chart's start. */
async function shown(page: Page): Promise<{ tiles: Record<string, string>; feed: string[]; chartFrom: string; chartPoints: number }> {
  const panel = panelOf(page)
  const tiles: Record<string, string> = {}
  for (const id of ['events', 'votes', 'views', 'invites', 'users', 'latest-vote']) {
    tiles[id] = (await panel.getByTestId(`stat-${id}`).locator('.tile-value').textContent()) ?? ''
  }
  const feed = await panel.getByTestId('feed').locator('li').allTextContents()
  const chart = panel.getByTestId('chart')
  return {
    tiles,
    feed,
    chartFrom: (await chart.getAttribute('data-from')) ?? '',
    chartPoints: Number(await chart.getAttribute('data-points')),
  }
}

/** Every localStorage entry of the origin, and the context's cookies, as text. */
async function localText(context: BrowserContext, page: Page): Promise<string> {
  const local = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)))
  return local + JSON.stringify(await context.cookies())
}

test('tiles, chart and feed survive a reload; a vote published during it counts once; the gap replaying counted events counts none of them again', async ({
  context,
}) => {
  const bot = { id: '811073947382579601', token: `numbers-a-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const page = await context.newPage()
    await page.goto('/')
    await expectLiveTab(page)
    const first = [vote(), vote(), view(), vote(), view()]
    await server.publish(first)
    const panel = panelOf(page)
    await expect(panel.getByTestId('feed').locator('li')).toHaveCount(5)
    await expect(panel.getByTestId('stat-events').locator('.tile-value')).toHaveText('5')
    // Two samples on the chart, so that its start is a second that has passed.
    await expect.poll(async () => (await shown(page)).chartPoints).toBeGreaterThan(1)
    const before = await shown(page)

    // The reload: away (its socket closed) while a vote is published.
    await page.goto('about:blank')
    const during = vote()
    await server.publish([during])
    await page.goto('/')
    await expectLiveTab(page)
    await expect(panel.getByTestId('resumed')).toHaveCount(1)
    await expect(panel.getByTestId('stat-events').locator('.tile-value')).toHaveText('6')
    const after = await shown(page)
    // (The gap's voter may be new: unique users may grow by one, never fall back.)
    expect(after.tiles).toEqual({ ...before.tiles, events: '6', votes: '4', 'latest-vote': String(during.ctx.votes), users: after.tiles['users'] })
    expect(Number(after.tiles['users'])).toBeGreaterThanOrEqual(Number(before.tiles['users']))
    // The vote of the gap on top, then the rows from before the reload as they were.
    expect(after.feed.slice(1)).toEqual(before.feed)
    expect(after.feed[0]).toContain('filled in')
    expect(after.chartFrom).toBe(before.chartFrom)
    expect(after.chartPoints).toBeGreaterThanOrEqual(before.chartPoints)

    // A resume mark set back before every event: the gap delivers all six again, and the page
    // counts none of them twice (the tally's event IDs drop them).
    // Set back from a page of the same origin where no dashboard runs (the prefill's JSON), so
    // that no client writes its mark over it.
    await page.goto('/demo-target.json')
    const setBack = await page.evaluate(() => {
      let n = 0
      for (const [key, value] of Object.entries(localStorage)) {
        if (!key.startsWith('fates-rx:1:')) continue
        const record = JSON.parse(value) as { mark?: { ts: number; eid?: string; tied?: string[] } }
        if (record.mark === undefined) continue
        record.mark = { ts: record.mark.ts - 3_600, eid: '', tied: [] }
        localStorage.setItem(key, JSON.stringify(record))
        n += 1
      }
      // The tab's own mark (sessionStorage) is what its join resumes from, ahead of the record's:
      // set back too, or the gap would replay nothing and the check below would prove nothing.
      for (const [key, value] of Object.entries(sessionStorage)) {
        if (!key.startsWith('fates-rx:1:') || !key.endsWith(':mark')) continue
        const mark = JSON.parse(value) as { ts: number }
        sessionStorage.setItem(key, JSON.stringify({ ts: mark.ts - 3_600, eid: '', tied: [] }))
        n += 1
      }
      return n
    })
    expect(setBack).toBe(2)
    await page.goto('/')
    await expectLiveTab(page)
    await page.waitForTimeout(1_500)
    const again = await shown(page)
    expect(again.tiles).toEqual(after.tiles)
    expect(again.feed).toEqual(after.feed)
  } finally {
    await server.close()
  }
})

test('after a browser restart (a new context with the old storage) the numbers are back, the gap filled in once; the token is in no localStorage entry', async ({
  browser,
  context,
}) => {
  const bot = { id: '811073947382579602', token: `numbers-b-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    const target = { url: server.url, ...bot }
    await prefill(context, target)
    const page = await context.newPage()
    await page.goto('/')
    await expectLiveTab(page)
    await server.publish([vote(), view(), vote()])
    await expect(panelOf(page).getByTestId('stat-events').locator('.tile-value')).toHaveText('3')
    // The numbers are kept a moment after they show (one save per 250 ms, and at pagehide). A
    // browser closing fires pagehide first; storageState() below reads the storage without one,
    // so wait for the kept tally to hold what the tiles show (CI once read it before the save).
    await expect
      .poll(() =>
        page.evaluate(() => {
          const entry = Object.entries(localStorage).find(([key]) => key.startsWith('fates-rx.dashboard.kept:'))
          return entry === undefined ? undefined : (JSON.parse(entry[1]) as { total?: number }).total
        }),
      )
      .toBe(3)
    const before = await shown(page)
    const stored = await localText(context, page)
    expect(stored).toContain('fates-rx.dashboard.kept:')
    expect(stored).not.toContain(bot.token)
    const storage = await context.storageState()
    await context.close()

    const whileClosed = vote()
    await server.publish([whileClosed])
    const restarted = await browser.newContext({ storageState: storage })
    try {
      await prefill(restarted, target)
      const again = await restarted.newPage()
      await again.goto('/')
      await expectLiveTab(again)
      const panel = panelOf(again)
      await expect(panel.getByTestId('stat-events').locator('.tile-value')).toHaveText('4')
      await expect(panel.getByTestId('stat-latest-vote').locator('.tile-value')).toHaveText(String(whileClosed.ctx.votes))
      await again.waitForTimeout(1_500)
      const after = await shown(again)
      expect(after.tiles['votes']).toBe('3')
      expect(after.tiles['views']).toBe(before.tiles['views'])
      expect(after.feed.slice(1)).toEqual(before.feed)
      expect(after.feed[0]).toContain('filled in')
      expect(after.chartFrom).toBe(before.chartFrom)
      // The token: in sessionStorage at most, never in localStorage or a cookie.
      const text = await localText(restarted, again)
      expect(text).toContain('fates-rx.dashboard.kept:')
      expect(text).not.toContain(bot.token)
    } finally {
      await restarted.close()
    }
  } finally {
    await server.close()
  }
})

test('unreadable kept numbers: the page goes live from zero and says so under Diagnostics, without an error', async ({ context }) => {
  const bot = { id: '811073947382579603', token: `numbers-c-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const key = `fates-rx.dashboard.kept:${JSON.stringify([server.url, 'bot', bot.id])}`
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    // Written once, before the first load's scripts run.
    await page.addInitScript((k) => {
      if (sessionStorage.getItem('corrupted') === null) {
        localStorage.setItem(k, '{"v":1,"total":')
        sessionStorage.setItem('corrupted', '1')
      }
    }, key)
    await page.goto('/')
    await expectLiveTab(page)
    const panel = panelOf(page)
    await expect(panel.getByTestId('diagnostics')).toHaveAttribute('data-count', '1')
    await expect(panel.getByTestId('diagnostics')).toContainText('unreadable (not JSON)')
    await server.publish([vote()])
    await expect(panel.getByTestId('stat-events').locator('.tile-value')).toHaveText('1')
    // The entry is rewritten with the new numbers, readable again.
    await expect.poll(() => page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}').total as number, key)).toBe(1)
    expect(errors).toEqual([])
  } finally {
    await server.close()
  }
})

test('three tabs, each reloaded three times with a vote published during each reload: every tab shows every vote, once', async ({ context }) => {
  const bot = { id: '811073947382579604', token: `numbers-d-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const pages: Page[] = []
    for (let i = 0; i < 3; i += 1) {
      const page = await context.newPage()
      await page.goto('/')
      await expectLiveTab(page)
      pages.push(page)
    }
    let votes = 0
    for (let round = 0; round < 3; round += 1) {
      for (const page of pages) {
        await page.goto('about:blank')
        await server.publish([vote()])
        votes += 1
        await page.goto('/')
        await expectLiveTab(page)
      }
    }
    for (const page of pages) {
      await expect(panelOf(page).getByTestId('stat-votes').locator('.tile-value')).toHaveText(String(votes))
    }
    await pages[0]?.waitForTimeout(1_500)
    for (const page of pages) {
      expect(await panelOf(page).getByTestId('stat-votes').locator('.tile-value').textContent()).toBe(String(votes))
      await expect(panelOf(page).getByTestId('feed').locator('li')).toHaveCount(votes)
    }
    test.info().annotations.push({ type: 'identifies', description: String(await server.identified()) })
  } finally {
    await server.close()
  }
})
