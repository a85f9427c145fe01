// The Vite dev loop (issue 18 item 5): a hot update of the dashboard's modules under the Vite
// dev server that Playwright runs re-runs main.ts without reloading the page, and hands the
// open client over (handover.ts): no new socket, no identify, and the numbers stay, an event
// published during the swap counted once.
import { readFileSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { expect, type Page, test } from '@playwright/test'
import { expectLiveTab, panelOf, prefill, startTabsServer, vote } from './support/tabs.js'

test.describe.configure({ timeout: 120_000 })

const source = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url))

/** Edits a module (a comment appended), runs `during` while the update is on its way, waits for it, restores the module. */
async function hotUpdate(page: Page, path: string, during: () => Promise<void>): Promise<void> {
  const file = source(path)
  const original = readFileSync(file, 'utf8')
  const updated = page.waitForEvent('console', { predicate: (m) => /\[vite\] hot updated: \/src\/main\.ts/.test(m.text()), timeout: 30_000 })
  try {
    writeFileSync(file, `${original}\n// hot update probe ${randomUUID()}\n`)
    await during()
    await updated
  } finally {
    writeFileSync(file, original)
  }
  // The restore is an update of its own: wait for it too, so that the next step starts settled.
  // Not required: the watcher may fold the two writes into one change under load (seen once in
  // a run of fifteen specs); an update that comes later still counts in the totals the spec
  // checks at its end (sockets, identifies).
  await page
    .waitForEvent('console', { predicate: (m) => /\[vite\] hot updated: \/src\/main\.ts/.test(m.text()), timeout: 10_000 })
    .catch(() => undefined)
}

const tileText = (page: Page, id: string) => panelOf(page).getByTestId(`stat-${id}`).locator('.tile-value')

test('a hot update of the dashboard keeps its socket: 0 identifies and 0 connections per update, numbers kept, an event of the swap counted once', async ({
  context,
}) => {
  const bot = { id: '811073947382579701', token: `hmr-${randomUUID()}` }
  const server = await startTabsServer(bot)
  try {
    await prefill(context, { url: server.url, ...bot })
    const page = await context.newPage()
    let loads = 0
    page.on('load', () => (loads += 1))
    await page.goto('/')
    await expectLiveTab(page)
    await server.publish([vote(), vote(), vote()])
    await expect(tileText(page, 'votes')).toHaveText('3')
    expect(await server.identified()).toBe(1)
    // A page that is not reloaded keeps this.
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true))

    // A module deep under main.ts, and the handover itself.
    const swapVote = vote()
    await hotUpdate(page, 'streams/tiles.ts', () => server.publish([swapVote]))
    await expectLiveTab(page)
    await expect(tileText(page, 'votes')).toHaveText('4')
    await expect(tileText(page, 'latest-vote')).toHaveText(String(swapVote.ctx.votes))
    await hotUpdate(page, 'handover.ts', () => server.publish([vote()]))
    await expectLiveTab(page)
    await expect(tileText(page, 'votes')).toHaveText('5')

    // Still the same connection, receiving, and the same document (no full reload).
    await server.publish([vote()])
    await expect(tileText(page, 'votes')).toHaveText('6')
    await page.waitForTimeout(1_000)
    expect(await tileText(page, 'votes').textContent()).toBe('6')
    await expect(panelOf(page).getByTestId('feed').locator('li')).toHaveCount(6)
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true)
    expect(loads).toBe(1)
    await expect(page.getByTestId('target')).toHaveCount(1)
    // Counted at the server: the dashboard's socket lives in its SharedWorker, where a page's
    // websocket events do not see it. One identify in all, and one connection open, ready.
    expect(await server.identified()).toBe(1)
    expect(await server.metric('fates_connections{state="ready"}')).toBe(1)
    expect(await server.metric('fates_connections{state="waiting"}')).toBe(0)
  } finally {
    await server.close()
  }
})
