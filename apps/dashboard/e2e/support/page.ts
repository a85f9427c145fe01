import { expect, type Locator, type Page } from '@playwright/test'
import { serverHttp, E2E } from './config.js'

/** What the page reported about itself: CSP violations, uncaught errors, console output. */
export interface PageWatch {
  readonly errors: string[]
  readonly console: string[]
  /** CSP violations seen by the page (`securitypolicyviolation` events). */
  violations(): Promise<string[]>
  /** URLs of every WebSocket the page opened. */
  sockets(): Promise<string[]>
}

declare global {
  interface Window {
    __e2e: {
      violations: string[]
      sockets: string[]
      longTasks: { start: number; duration: number }[]
      frames?: { start: number; duration: number; scripts: string[] }[]
    }
  }
}

/**
 * Instruments a page before any of its scripts run: counts WebSocket constructions (to prove
 * that a client stops retrying), records CSP violations and long tasks.
 */
export async function watch(page: Page): Promise<PageWatch> {
  const errors: string[] = []
  const consoleLines: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`))
  await page.addInitScript(() => {
    const state = { violations: [] as string[], sockets: [] as string[], longTasks: [] as { start: number; duration: number }[] }
    window.__e2e = state
    document.addEventListener('securitypolicyviolation', (event) => {
      state.violations.push(`${event.violatedDirective} ${event.blockedURI}`)
    })
    const Native = window.WebSocket
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        state.sockets.push(String(url))
      }
    }
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) state.longTasks.push({ start: entry.startTime, duration: entry.duration })
    }).observe({ type: 'longtask', buffered: true })
  })
  return {
    errors,
    console: consoleLines,
    violations: () => page.evaluate(() => window.__e2e.violations),
    sockets: () => page.evaluate(() => window.__e2e.sockets),
  }
}

/** Opens the dashboard without the demo prefill: one empty panel. */
export async function openEmpty(page: Page): Promise<Locator> {
  await page.route('**/demo-target.json', (route) => route.fulfill({ status: 404, body: '' }))
  await page.goto('/')
  return page.getByTestId('target').first()
}

/** Fills a panel's connect form and presses Connect. */
export async function connectPanel(
  panel: Locator,
  target: { url: string; id: string; token: string; kind?: 'bot' | 'server'; sendAll?: boolean },
): Promise<void> {
  await panel.getByTestId('connect-url').fill(target.url)
  await panel.getByTestId('connect-kind').selectOption(target.kind ?? 'bot')
  await panel.getByTestId('connect-id').fill(target.id)
  await panel.getByTestId('connect-token').fill(target.token)
  await panel.getByTestId('connect-send-all').setChecked(target.sendAll ?? false)
  await panel.getByTestId('connect-submit').click()
}

/** The number a stat tile shows, without thousands separators. */
export async function tileNumber(panel: Locator, id: string): Promise<number> {
  const text = await panel.getByTestId(`stat-${id}`).locator('.tile-value').textContent()
  return Number((text ?? '').replaceAll(',', ''))
}

/** Waits until the panel says it is live. */
export async function expectLive(panel: Locator): Promise<void> {
  await expect(panel.getByTestId('status').locator('.headline')).toHaveText('Live')
}

/** Publishes an event through the e2e server's `POST /publish`. */
export async function publish(channel: string, event: unknown): Promise<void> {
  const response = await fetch(`${serverHttp}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${E2E.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ channel, event }),
  })
  if (!response.ok) throw new Error(`publish failed: ${response.status} ${await response.text()}`)
}

/** Asserts that a secret appears nowhere in the page: not in its URL, DOM or console. */
export async function expectNoSecret(page: Page, secret: string, pageWatch: PageWatch): Promise<void> {
  expect(page.url()).not.toContain(secret)
  const html = await page.evaluate(() => document.documentElement.outerHTML)
  expect(html).not.toContain(secret)
  expect(pageWatch.console.join('\n')).not.toContain(secret)
  // The one place it may be: the token input's value (a property, not serialised).
}
