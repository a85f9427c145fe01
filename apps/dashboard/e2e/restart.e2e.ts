import { randomUUID } from 'node:crypto'
import { MemoryStore, type RunningServer, startServer } from '@fates-rx/server'
import { expect, test } from '@playwright/test'
import { connectPanel, expectLive, openEmpty, tileNumber, watch } from './support/page.js'

const bot = { id: '811073947382579301', token: 'fates-rx-e2e-restart' }

test('a server restart shows reconnecting then live, and the vote count neither drops nor double-counts', async ({ page }) => {
  // Its own server, so that it can be stopped; the store outlives it, so that the replay after
  // the restart resends the votes already counted (the dedupe must drop them). The ratelimit is
  // the original's: the store's counter outlives the restart too, and two identifies fit.
  const store = new MemoryStore({ bots: [bot] })
  const options = { host: '127.0.0.1', store }
  let server: RunningServer = await startServer({ ...options, port: 0 })
  const { port, url } = server
  let votes = 100
  const vote = () =>
    server.publish(`bot-${bot.id}`, {
      m: { e: 0, eid: randomUUID(), ts: Date.now() / 1000, t: -1 },
      ctx: { user: String(563808552288780000n + BigInt(votes)), votes: (votes += 1), test: false },
    })

  try {
    const seen = await watch(page)
    const panel = await openEmpty(page)
    await connectPanel(panel, { url, ...bot, sendAll: true })
    await expectLive(panel)
    for (let i = 0; i < 5; i += 1) await vote()
    await expect.poll(() => tileNumber(panel, 'votes')).toBe(5)
    await expect.poll(() => tileNumber(panel, 'latest-vote')).toBe(105)

    await server.close()
    const headline = panel.getByTestId('status').locator('.headline')
    await expect(headline).toContainText('Reconnecting')
    await expect(panel.getByTestId('status')).toContainText('Last close')

    server = await startServer({ ...options, port })
    await expectLive(panel)
    // The replay resent the five stored votes; they were counted once already.
    await expect(panel.getByTestId('stat-events').locator('.tile-value')).toHaveText('5')
    expect(await tileNumber(panel, 'votes')).toBe(5)
    expect(await tileNumber(panel, 'latest-vote')).toBe(105)

    for (let i = 0; i < 5; i += 1) await vote()
    await expect.poll(() => tileNumber(panel, 'votes')).toBe(10)
    await expect.poll(() => tileNumber(panel, 'latest-vote')).toBe(110)
    expect(await seen.violations()).toEqual([])
    expect(seen.errors).toEqual([])
  } finally {
    await server.close()
  }
})
