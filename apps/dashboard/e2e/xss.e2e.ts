import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { E2E } from './support/config.js'
import { expectLive, publish, watch } from './support/page.js'

test('markup in an event is shown as text and runs nothing', async ({ page }) => {
  const seen = await watch(page)
  await page.goto('/')
  const panel = page.getByTestId('target').first()
  await expectLive(panel)

  const review = '<img src=x onerror="window.__pwned=1">'
  const user = '<i>u</i>'
  await publish(`bot-${E2E.bot.id}`, {
    m: { e: 31, eid: randomUUID(), ts: Date.now() / 1000, t: -1 },
    ctx: { user, id: randomUUID(), star_rating: 5, reply: false, review },
  })

  const row = panel.getByTestId('feed').locator('li', { hasText: 'review add' }).filter({ hasText: review })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText(user)
  expect(await page.locator('[data-testid=feed] img, [data-testid=feed] script').count()).toBe(0)
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
  // Nothing even tried: a blocked inline handler would show up as a CSP violation.
  expect(await seen.violations()).toEqual([])
  expect(seen.errors).toEqual([])
})
