import { expect, test } from '@playwright/test'
import { E2E, serverUrl } from './support/config.js'
import { connectPanel, expectLive, openEmpty, watch } from './support/page.js'

test('a second target joins side by side, entered from the keyboard alone', async ({ page }) => {
  const seen = await watch(page)
  await page.goto('/')
  const panels = page.getByTestId('target')
  await expectLive(panels.first())

  await page.getByTestId('add-target').focus()
  await page.keyboard.press('Enter')
  await expect(panels).toHaveCount(2)
  const second = panels.nth(1)
  // The new panel takes the last server URL and puts the cursor in the first empty field.
  await expect(second.getByTestId('connect-url')).toHaveValue(await panels.first().getByTestId('connect-url').inputValue())
  await expect(second.getByTestId('connect-id')).toBeFocused()
  await page.keyboard.type(E2E.bot.id)
  await page.keyboard.press('Tab')
  await expect(second.getByTestId('connect-token')).toBeFocused()
  await page.keyboard.type(E2E.bot.token)
  await page.keyboard.press('Enter')
  await expectLive(second)
  // The fields fold away (disabled) as it connects: the keyboard's place is the Disconnect
  // button, not the page.
  await expect(second.getByTestId('connect-submit')).toHaveText('Disconnect')
  await expect(second.getByTestId('connect-submit')).toBeFocused()

  const [a, b] = await Promise.all([panels.first().boundingBox(), second.boundingBox()])
  expect(a !== null && b !== null && b.x > a.x + a.width - 1 && Math.abs(b.y - a.y) < 2).toBe(true)
  expect(await seen.violations()).toEqual([])
  expect(seen.errors).toEqual([])
})

test('a panel switched to another target shows none of the last target\'s rows', async ({ page }) => {
  const panel = await openEmpty(page)
  await connectPanel(panel, { url: serverUrl, ...E2E.bot })
  await expectLive(panel)
  const feed = panel.getByTestId('feed').locator('li')
  await expect(feed.nth(2)).toBeVisible()
  await panel.getByTestId('connect-submit').click()
  const newest = Number(await feed.first().getAttribute('data-key'))
  // Numbers another target kept from an earlier visit, its rows numbered over the ones on
  // screen: the feed slides by row keys, and each target numbers its own.
  const other = { url: serverUrl, kind: 'server', id: '811073947382579999' } as const
  await page.evaluate(
    ({ key, newest }) => {
      const row = (n: number) => ({ key: String(n), time: '00:00:00', name: 'kept row', user: '', fields: '', chan: '', prior: false, resumed: false })
      const feed = Array.from({ length: 50 }, (_, i) => row(newest + 10 - i))
      const tally = { v: 1, since: Date.now(), total: 50, replayed: 0, totals: {}, uniqueUsers: 0, users: [], latestVote: null, buckets: [], feed, seq: newest + 10, eids: [] }
      localStorage.setItem(key, JSON.stringify(tally))
    },
    { key: `fates-rx.dashboard.kept:${JSON.stringify([other.url, other.kind, other.id])}`, newest },
  )
  await connectPanel(panel, { ...other, token: 'not-this-servers-token' })
  await expect(feed.first()).toContainText('kept row')
  await expect(feed).toHaveCount(50)
  expect(await feed.filter({ hasNotText: 'kept row' }).count()).toBe(0)
})
