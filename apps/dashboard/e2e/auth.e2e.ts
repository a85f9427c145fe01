import { expect, test } from '@playwright/test'
import { E2E, serverUrl } from './support/config.js'
import { connectPanel, expectNoSecret, openEmpty, watch } from './support/page.js'
import { withoutSharedWorker } from './support/tabs.js'

// The tabs' election, the fallback where there is no SharedWorker (worker.e2e.ts tests the worker).
test.beforeEach(({ context }) => withoutSharedWorker(context))

test('a wrong token shows the auth failure in words and makes no further attempts', async ({ page }) => {
  const seen = await watch(page)
  const panel = await openEmpty(page)
  const wrong = 'definitely-not-the-token'
  await connectPanel(panel, { url: serverUrl, id: E2E.bot.id, token: wrong })

  const status = panel.getByTestId('status')
  await expect(status.locator('.headline')).toHaveText('Failed: not retrying')
  await expect(status).toContainText('4004')
  await expect(status).toContainText('token was rejected')
  // The form is editable again, to fix the token.
  await expect(panel.getByTestId('connect-submit')).toHaveText('Connect')
  await expect(panel.getByTestId('connect-token')).toBeEditable()

  // Absence cannot be awaited: give a retry (the client's first backoff is about a second)
  // several times the chance to happen, then count.
  await page.waitForTimeout(4_000)
  expect((await seen.sockets()).filter((url) => url === serverUrl)).toHaveLength(1)
  await expect(panel.getByTestId('control-log').locator('code', { hasText: /^identity$/ })).toHaveCount(1)
  await expect(status.locator('.headline')).toHaveText('Failed: not retrying')

  await expectNoSecret(page, wrong, seen)
  expect(await seen.violations()).toEqual([])
  expect(seen.errors).toEqual([])
})
