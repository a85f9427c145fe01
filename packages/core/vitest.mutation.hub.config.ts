import { defineConfig } from 'vitest/config'

// The hub machine's own tests, for `pnpm test:mutation:hub` (stryker.hub.config.mjs): its
// mutants are judged by the tests written for its rules, in seconds, not by core's whole suite.
export default defineConfig({
  test: {
    include: ['src/client/tabs/hub-machine.test.ts'],
    setupFiles: ['src/test-support/mutation-setup.ts'],
  },
})
