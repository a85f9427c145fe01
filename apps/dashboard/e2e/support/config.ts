/**
 * A port from the environment, else the default. Two checkouts on one machine (worktrees, a CI
 * run beside a developer's) can then run their end-to-end specs at once without colliding.
 */
function portFrom(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`${name} must be a TCP port (1-65535), got ${JSON.stringify(text)}`)
  }
  return port
}

/**
 * Fixed facts of the end-to-end run, shared by playwright.config.ts and the specs. Ports are
 * fixed (not 0) because Playwright's `webServer` needs to know them before starting; set
 * `E2E_SERVER_PORT` and `E2E_APP_PORT` to move them.
 */
export const E2E = Object.freeze({
  /** The websocket server the `webServer` entry starts (demo traffic, known tokens). */
  serverPort: portFrom('E2E_SERVER_PORT', 18_731),
  /** The Vite dev server of the dashboard. */
  appPort: portFrom('E2E_APP_PORT', 18_730),
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
