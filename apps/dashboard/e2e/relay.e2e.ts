import { randomUUID } from 'node:crypto'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { startServer } from '@fates-rx/server'
import { expect, test } from '@playwright/test'
import { expectNoSecret, watch } from './support/page.js'
import { countsOf, expectLiveTab, prefill, startTabsServer, vote, withoutSharedWorker } from './support/tabs.js'

// The tabs' election, the fallback where there is no SharedWorker (worker.e2e.ts tests the worker).
test.beforeEach(({ context }) => withoutSharedWorker(context))

// The public dashboard of the README: the page connects to a relay with a viewer token; only
// the relay holds the origin's token. Both servers at the original's ratelimit.
test('a dashboard behind a relay: live with a viewer token, the origin identified once, its token never in the page', async ({ context, page }) => {
  const bot = { id: '811073947382579501', token: `origin-${randomUUID()}` }
  const origin = await startTabsServer(bot)
  const viewer = { id: bot.id, token: `viewer-${randomUUID()}` }
  const relay = await startServer({ host: '127.0.0.1', port: 0, bots: [viewer], relay: { upstream: origin.url, bots: [bot] } })
  try {
    await prefill(context, { url: relay.url, ...viewer })
    const frames: string[] = []
    page.on('websocket', (socket) => {
      socket.on('framereceived', (frame) => frames.push(String(frame.payload)))
      socket.on('framesent', (frame) => frames.push(String(frame.payload)))
    })
    const pageWatch = await watch(page)
    await page.goto('/')
    await expectLiveTab(page, 'leader')
    // The page is live as soon as the relay has identified it, while the relay's own upstream
    // connection is still opening (about a second: the origin sends `identity` late). Votes
    // published now, before the relay's upstream is live, still reach the page: the upstream
    // resumes from its opening, and relays what the origin's history holds since as live.
    await expect.poll(() => frames.some((frame) => frame.includes(`"code":"${RelayControlCode.UpstreamConnecting}"`))).toBe(true)

    await origin.publish([vote(), vote(), vote()])
    await expect.poll(async () => (await countsOf(page))[1]).toBe(3)

    // Viewers come and go; the relay keeps its one upstream connection (the grace period).
    for (let i = 0; i < 3; i += 1) {
      await page.reload()
      await expectLiveTab(page, 'leader')
    }
    // The three from before the reloads are kept (the dashboard keeps its numbers), plus this one.
    await origin.publish([vote()])
    await expect.poll(async () => (await countsOf(page))[1]).toBe(4)
    expect(await origin.identified()).toBe(1)

    expect(frames.length).toBeGreaterThan(0)
    expect(frames.join('\n')).not.toContain(bot.token)
    await expectNoSecret(page, bot.token, pageWatch)
    await expectNoSecret(page, viewer.token, pageWatch)
  } finally {
    await relay.close()
    await origin.close()
  }
})
