import { expect, test } from '@playwright/test'
import { E2E } from './support/config.js'
import { expectLive, watch } from './support/page.js'

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

  const [a, b] = await Promise.all([panels.first().boundingBox(), second.boundingBox()])
  expect(a !== null && b !== null && b.x > a.x + a.width - 1 && Math.abs(b.y - a.y) < 2).toBe(true)
  expect(await seen.violations()).toEqual([])
  expect(seen.errors).toEqual([])
})
