import { randomUUID } from 'node:crypto'
import AxeBuilder from '@axe-core/playwright'
import { expect, type Page, test } from '@playwright/test'
import { expectLive, openEmpty, publish, tileNumber } from './support/page.js'

/** The impacts that fail the check; minor and moderate findings are reported, not fatal. */
const blocking = new Set(['serious', 'critical'])

/** WCAG 2.x A and AA, plus axe's best practices (landmarks, headings, region). */
const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']

/**
 * Runs axe on the page as it is now. The builder injects axe through the protocol, not a
 * `<script>`, so the dashboard's CSP needs no exception. Returns the blocking violations as
 * readable lines (rule, impact, what to fix, where), so a failure says what broke.
 */
async function blockingViolations(page: Page, label: string): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(tags).analyze()
  const lines = results.violations
    .filter((v) => v.impact != null && blocking.has(v.impact))
    .flatMap((v) =>
      v.nodes.map((node) => `[${label}] ${v.id} (${v.impact}): ${v.help} at ${node.target.join(' ')}: ${node.failureSummary ?? ''}`),
    )
  // Must run at all: a page axe could not read would pass with zero violations.
  expect(results.passes.length, `${label}: axe ran no check`).toBeGreaterThan(10)
  return lines
}

// One live page for both checks: each connection to the shared e2e server spends an identify
// of the bot's budget (10 per 7 minutes, the original's), which the whole suite shares.
test('the live page has no serious or critical accessibility violation, light and dark, and speaks politely', async ({ page }) => {
  await page.goto('/')
  const panel = page.getByTestId('target').first()
  await expectLive(panel)
  // Events flowing: the tiles, the chart, the feed and the control log have content.
  const before = await tileNumber(panel, 'events')
  await expect.poll(() => tileNumber(panel, 'events')).toBeGreaterThan(before + 3)
  // A badge too (small accent text on its tint): an event on the global channel has one.
  await publish('global', { m: { e: 0, eid: randomUUID(), ts: Date.now() / 1000, t: -1 }, ctx: { user: '1', votes: 1 } })
  await expect(panel.getByTestId('feed').locator('.badge').first()).toBeVisible()

  const found = await blockingViolations(page, 'light')
  await page.emulateMedia({ colorScheme: 'dark' })
  found.push(...(await blockingViolations(page, 'dark')))
  expect(found).toEqual([])

  // How each part would be spoken when it changes: the politeness of the nearest live region
  // around it (itself included), or 'silent'.
  const politeness = (testid: string) =>
    panel.getByTestId(testid).evaluate((element) => {
      const implicit: Record<string, string> = { status: 'polite', log: 'polite', alert: 'assertive', timer: 'off', marquee: 'off' }
      for (let el: Element | null = element; el !== null; el = el.parentElement) {
        const explicit = el.getAttribute('aria-live')
        const role = el.getAttribute('role') ?? ''
        const live = explicit ?? implicit[role]
        if (live !== undefined) return live === 'off' ? 'silent' : live
      }
      return 'silent'
    })
  expect(await politeness('feed-announcer')).toBe('polite')
  expect(await politeness('status-announcer')).toBe('polite')
  // The tiles, the feed's list, the control log, the diagnostics and the status line (its
  // countdown ticks every second, its replay progress many times a second) change too often.
  for (const testid of ['stat-events', 'stat-votes', 'chart', 'feed', 'control-log', 'diagnostics', 'status']) {
    expect(await politeness(testid), testid).toBe('silent')
  }
  await expect(panel.getByTestId('status-announcer')).toHaveText(/: Live$/)
  // The summary comes within its interval (10 s) once events flow.
  await expect(panel.getByTestId('feed-announcer')).toHaveText(/: \d+ new events?: /, { timeout: 20_000 })
})

test('the connect form and its error have no serious or critical accessibility violation', async ({ page }) => {
  const panel = await openEmpty(page)
  // Pressing Connect on the empty form shows the validation error next to the fields.
  await panel.getByTestId('connect-submit').click()
  await expect(panel.getByTestId('connect-error')).not.toBeEmpty()

  const found = await blockingViolations(page, 'light')
  await page.emulateMedia({ colorScheme: 'dark' })
  found.push(...(await blockingViolations(page, 'dark')))
  expect(found).toEqual([])
})
