/**
 * Fixed facts of the end-to-end run, shared by playwright.config.ts and the specs. Ports are
 * fixed (not 0) because Playwright's `webServer` needs to know them before starting.
 */
export const E2E = Object.freeze({
  /** The websocket server the `webServer` entry starts (demo traffic, known tokens). */
  serverPort: 18_731,
  /** The Vite dev server of the dashboard. */
  appPort: 18_730,
  /** Bearer token for `POST /publish` from the tests. */
  adminToken: 'fates-rx-e2e-admin-token',
  /** The demo bot, as `pnpm start` serves it. */
  bot: Object.freeze({ id: '811073947382579200', token: 'fates-rx-demo-token' }),
  /** Demo events per second: enough to see the tiles move within a second or two. */
  demoRate: 8,
})

/** The websocket URL of the e2e server. */
export const serverUrl = `ws://127.0.0.1:${E2E.serverPort}/ws`
/** The HTTP base of the e2e server (`POST /publish`). */
export const serverHttp = `http://127.0.0.1:${E2E.serverPort}`
