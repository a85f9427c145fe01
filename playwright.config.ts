import { existsSync } from 'node:fs'
import { defineConfig, devices } from '@playwright/test'
import { E2E, serverUrl } from './apps/dashboard/e2e/support/config.js'

// `npx playwright install` cannot run on a closed network: use CHROMIUM_PATH, else Debian's
// Chromium, else whatever Playwright installed itself.
const executablePath =
  process.env['CHROMIUM_PATH'] ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined)

export default defineConfig({
  testDir: 'apps/dashboard/e2e',
  testMatch: '**/*.e2e.ts',
  outputDir: 'test-results',
  // One worker: the load spec measures long tasks, which a second browser on two cores would cause.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: process.env['CI'] === undefined ? 'list' : 'line',
  use: {
    baseURL: `http://127.0.0.1:${E2E.appPort}`,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 1280, height: 900 },
        launchOptions: {
          ...(executablePath === undefined ? {} : { executablePath }),
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
            '--disable-dev-shm-usage',
          ],
        },
      },
    },
  ],
  webServer: [
    {
      // The server's own CLI: the demo bot with demo traffic and a known admin token. The
      // ratelimit is the original's (10 identifies per 7 minutes); the specs that use this
      // server identify six times per run (the rejected one counts too), and each run starts a
      // fresh server.
      command: [
        'node packages/server/dist/cli.js',
        `--port ${E2E.serverPort}`,
        `--bot ${E2E.bot.id}:${E2E.bot.token}`,
        `--admin-token ${E2E.adminToken}`,
        `--demo ${E2E.demoRate}`,
      ].join(' '),
      port: E2E.serverPort,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      // One line per connection; useful when a spec fails, noise when none does.
      stderr: process.env['E2E_SERVER_LOG'] === '1' ? 'pipe' : 'ignore',
    },
    {
      command: `pnpm --filter @fates-rx/dashboard exec vite --port ${E2E.appPort} --strictPort`,
      url: `http://127.0.0.1:${E2E.appPort}/`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        // The same prefill `pnpm start` serves: the demo bot, connected on load.
        FATES_RX_DEMO_TARGET: JSON.stringify({
          url: serverUrl,
          kind: 'bot',
          id: E2E.bot.id,
          token: E2E.bot.token,
          autoConnect: true,
        }),
      },
    },
  ],
})
