import { randomUUID } from 'node:crypto'
import { startServer } from '@fates-rx/server'
import { expect, test } from '@playwright/test'
import { TargetViewDefaults } from '../src/streams/target.js'
import { connectPanel, expectLive, openEmpty, tileNumber, watch } from './support/page.js'

const bot = { id: '811073947382579302', token: 'fates-rx-e2e-load' }
const rate = 1_000
const seconds = 10

// Recording a trace snapshots the page from inside the renderer being measured.
test.use({ trace: 'off' })
// On a loaded two-core machine the OS can deschedule the renderer mid-task, and a 10 ms task
// then lasts 60 ms of wall time: seen in CI as single long tasks with no script in them. A real
// regression (say, redrawing the feed per event) fails every attempt; a descheduling does not.
test.describe.configure({ retries: 2 })

test('1000 events per second for 10 s: no long task over 50 ms, and a bounded feed', async ({ page }) => {
  test.setTimeout(90_000)
  const server = await startServer({ host: '127.0.0.1', port: 0, bots: [bot] })
  try {
    const seen = await watch(page)
    const panel = await openEmpty(page)
    await connectPanel(panel, { url: server.url, ...bot })
    await expectLive(panel)
    // Let the page settle (first chart draw, fonts) before measuring.
    await page.waitForFunction(() => new Promise((resolve) => requestAnimationFrame(() => resolve(true))))
    const startedAt = await page.evaluate(() => {
      // Long animation frames name the scripts in them: the failure message says whether a
      // long task was ours.
      const frames: { start: number; duration: number; scripts: string[] }[] = []
      window.__e2e.frames = frames
      type Frame = PerformanceEntry & { scripts: { sourceFunctionName: string; sourceURL: string; duration: number }[] }
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as Frame[]) {
          frames.push({
            start: Math.round(entry.startTime),
            duration: Math.round(entry.duration),
            scripts: entry.scripts.map((s) => `${s.sourceFunctionName || '(anonymous)'} ${s.sourceURL.split('/').pop() ?? ''} ${Math.round(s.duration)} ms`),
          })
        }
      }).observe({ type: 'long-animation-frame' })
      return performance.now()
    })

    // Publish on a schedule, catching up to `rate × elapsed` each tick, so that timer drift under
    // load does not lower the rate.
    const total = rate * seconds
    let sent = 0
    const t0 = Date.now()
    const kinds = [16, 16, 16, 17, 0] as const
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate))
      const batch: Promise<string>[] = []
      for (; sent < due; sent += 1) {
        const e = kinds[sent % kinds.length] ?? 16
        batch.push(
          server.publish(`bot-${bot.id}`, {
            m: { e, eid: randomUUID(), ts: Date.now() / 1000, t: -1 },
            ctx: e === 0 ? { user: String(sent % 500), votes: sent, test: false } : { user: String(sent % 500) },
          }),
        )
      }
      await Promise.all(batch)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const tookMs = Date.now() - t0
    expect(tookMs).toBeLessThan(seconds * 1000 + 2_000)

    await expect.poll(() => tileNumber(panel, 'events'), { timeout: 20_000 }).toBe(total)
    const longTasks = await page.evaluate((from) => window.__e2e.longTasks.filter((t) => t.start >= from), startedAt)
    const frames = await page.evaluate(() => window.__e2e.frames)
    expect(longTasks.filter((t) => t.duration > 50), `long animation frames: ${JSON.stringify(frames)}`).toEqual([])
    const rows = await panel.getByTestId('feed').locator('li').count()
    expect(rows).toBeGreaterThan(0)
    expect(rows).toBeLessThanOrEqual(TargetViewDefaults.feedLength)
    expect(await seen.violations()).toEqual([])
    expect(seen.errors).toEqual([])
  } finally {
    await server.close()
  }
})
