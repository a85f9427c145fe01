// A page's life (load, reload, close, restart the browser) against the project's server at the
// original's ratelimit (20 requests per window, an identify costs 2: ten identifies), each spec
// with its own server and bot, identifies counted by the server (`GET /metrics`).
import { randomUUID } from 'node:crypto'
import { type BrowserContext, expect, type Page, test } from '@playwright/test'
import { tileNumber } from './support/page.js'
import { panelOf, prefill, startTabsServer, type TabsServer, vote } from './support/tabs.js'

test.describe.configure({ timeout: 120_000 })

const headline = (page: Page) => panelOf(page).getByTestId('status').locator('.headline')
const ratelimited = (server: TabsServer) => server.metric('fates_identifies_total{outcome="ratelimited"}')

/** Waits until the page is live or says it waits to connect; returns which. */
async function settled(page: Page): Promise<'live' | 'waiting'> {
  await expect(headline(page)).toHaveText(/^(Live|Connects at|Reconnecting in)/)
  return (await headline(page).textContent())?.startsWith('Live') === true ? 'live' : 'waiting'
}

/** Everything this origin stores in the browser, as text: localStorage, IndexedDB, cookies. */
async function storedText(context: BrowserContext, page: Page): Promise<string> {
  const inPage = await page.evaluate(async () => {
    const local = Object.entries(localStorage)
    const databases = (await indexedDB.databases()).map((database) => database.name ?? '')
    return JSON.stringify({ local, databases, cookie: document.cookie })
  })
  return inPage + JSON.stringify(await context.cookies()) + JSON.stringify(await context.storageState())
}

test('a lone tab reloaded 14 times identifies at most 10 times, meets no 4012, and says when it will connect', async ({ context }) => {
  const bot = { id: '811073947382579501', token: `pages-a-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const page = await context.newPage()
    await page.goto('/')
    expect(await settled(page)).toBe('live')
    const outcomes: string[] = []
    for (let i = 0; i < 14; i++) {
      await page.reload()
      outcomes.push(await settled(page))
    }
    expect(await server.identified()).toBeLessThanOrEqual(10)
    expect(await ratelimited(server)).toBe(0)
    expect(await server.metric('fates_closes_total{code="4012"}')).toBe(0)
    // The loads after the tenth identify wait for the window, saying until when.
    expect(outcomes.slice(-1)).toEqual(['waiting'])
    await expect(headline(page)).toHaveText(/^Connects at \d\d:\d\d:\d\d \(in [67] min \d+ s\)$/)
    test.info().annotations.push({ type: 'loads', description: outcomes.join(' ') })
  } finally {
    await server.close()
  }
})

test('with a short ratelimit window, a page that waited for it connects once the window has passed', async ({ context }) => {
  const bot = { id: '811073947382579502', token: `pages-b-${randomUUID()}` }
  // Long enough for ten loads of the dev server on a busy machine (about 4 s each), short
  // enough to wait out in a test.
  const rateWindowMs = 90_000
  test.setTimeout(240_000)
  const server = await startTabsServer(bot, { rateWindowMs })
  try {
    await prefill(context, { url: server.url, ...bot, rateWindowMs })
    const page = await context.newPage()
    await page.goto('/')
    let last = await settled(page)
    for (let i = 0; i < 12 && last === 'live'; i++) {
      await page.reload()
      last = await settled(page)
    }
    expect(last).toBe('waiting')
    expect(await server.identified()).toBe(10)
    // Once the window has passed, its first identify is answered with ready.
    await expect(headline(page)).toHaveText('Live', { timeout: rateWindowMs + 10_000 })
    expect(await server.identified()).toBe(11)
    expect(await ratelimited(server)).toBe(0)
  } finally {
    await server.close()
  }
})

test('a vote published while a lone tab reloads arrives after the reload once, filled in; also after a browser restart; the token is stored nowhere', async ({
  browser,
  context,
}) => {
  const bot = { id: '811073947382579503', token: `pages-c-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    const target = { url: server.url, ...bot }
    await prefill(context, target)
    const page = await context.newPage()
    await page.goto('/')
    expect(await settled(page)).toBe('live')
    const before = vote()
    await server.publish([before])
    await expect.poll(() => tileNumber(panelOf(page), 'votes')).toBe(1)

    // The page is away (navigated off, its socket closed) while the vote is published.
    await page.goto('about:blank')
    const during = vote()
    await server.publish([during])
    await page.goto('/')
    expect(await settled(page)).toBe('live')
    const panel = panelOf(page)
    await expect(panel.getByTestId('resumed')).toHaveCount(1)
    await expect.poll(() => tileNumber(panel, 'latest-vote')).toBe(during.ctx.votes)
    // Once: the vote from before the reload is kept (the page's numbers survive it) and not
    // delivered again, the gap's not twice.
    await page.waitForTimeout(1_500)
    expect(await tileNumber(panel, 'votes')).toBe(2)
    await expect(panel.getByTestId('feed').locator('li')).toHaveCount(2)

    // A browser restart: a new context with the old one's storage (localStorage included).
    const storage = await context.storageState()
    expect(JSON.stringify(storage)).toContain('fates-rx:1:')
    const stored = await storedText(context, page)
    expect(stored).toContain('fates-rx:1:')
    expect(stored).not.toContain(bot.token)
    await context.close()
    const afterRestart = vote()
    await server.publish([afterRestart])
    const restarted = await browser.newContext({ storageState: storage })
    try {
      await prefill(restarted, target)
      const again = await restarted.newPage()
      await again.goto('/')
      expect(await settled(again)).toBe('live')
      const panelAgain = panelOf(again)
      // The gap's vote, and the one filled in after the reload, kept in the feed with its badge.
      await expect(panelAgain.getByTestId('resumed')).toHaveCount(2)
      await expect.poll(() => tileNumber(panelAgain, 'latest-vote')).toBe(afterRestart.ctx.votes)
      await again.waitForTimeout(1_500)
      expect(await tileNumber(panelAgain, 'votes')).toBe(3)
      expect(await storedText(restarted, again)).not.toContain(bot.token)
    } finally {
      await restarted.close()
    }
    // One identify per load: three.
    expect(await server.identified()).toBe(3)
  } finally {
    await server.close()
  }
})

test('a target entered by hand comes back connected after a reload without asking; its token lives only in sessionStorage', async ({ browser, context }) => {
  const bot = { id: '811073947382579504', token: `pages-d-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    // No prefill: the page starts with one empty panel.
    await context.route('**/demo-target.json', (route) => route.fulfill({ status: 404, body: '' }))
    const page = await context.newPage()
    await page.goto('/')
    const panel = panelOf(page)
    await panel.getByTestId('connect-url').fill(server.url)
    await panel.getByTestId('connect-id').fill(bot.id)
    await panel.getByTestId('connect-token').fill(bot.token)
    await panel.getByTestId('connect-remember').check()
    await panel.getByTestId('connect-submit').click()
    expect(await settled(page)).toBe('live')

    await page.reload()
    expect(await settled(page)).toBe('live')
    await expect(page.getByTestId('target')).toHaveCount(1)
    await expect(panelOf(page).getByTestId('connect-token')).toHaveValue(bot.token)
    expect(await server.identified()).toBe(2)
    const session = await page.evaluate(() => JSON.stringify(Object.entries(sessionStorage)))
    expect(session).toContain(bot.token)
    const stored = await storedText(context, page)
    expect(stored).toContain(bot.id) // remembered on this device: the target, ...
    expect(stored).not.toContain(bot.token) // ... never its token

    // A browser restart: the remembered target comes back without its token, not connected.
    const storage = await context.storageState()
    const restarted = await browser.newContext({ storageState: storage })
    try {
      await restarted.route('**/demo-target.json', (route) => route.fulfill({ status: 404, body: '' }))
      const again = await restarted.newPage()
      await again.goto('/')
      const back = panelOf(again)
      await expect(back.getByTestId('connect-id')).toHaveValue(bot.id)
      await expect(back.getByTestId('connect-token')).toHaveValue('')
      await expect(back.getByTestId('status').locator('.headline')).toHaveText('Not connected')
    } finally {
      await restarted.close()
    }
    expect(await server.identified()).toBe(2)
  } finally {
    await server.close()
  }
})
