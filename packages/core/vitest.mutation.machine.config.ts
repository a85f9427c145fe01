import { defineConfig } from 'vitest/config'

// The connection machine's own tests, for `pnpm test:mutation:machine`
// (stryker.machine.config.mjs): pure steps, random histories and edges, no socket.
export default defineConfig({
  test: {
    include: ['src/client/connection/machine*.test.ts'],
    setupFiles: ['src/test-support/mutation-setup.ts'],
  },
})
