import { defineConfig } from 'vitest/config'

// The test run StrykerJS uses (see stryker.config.mjs): the protocol logic's own tests, which
// need no socket and no Redis or PostgreSQL; the real-socket tests in src/test/ stay out (they
// exercise the same machine through its interpreter, slowly, and cannot run in the sandbox's
// time budget).
export default defineConfig({
  test: {
    include: ['src/protocol/**/*.test.ts'],
    testTimeout: 20_000,
  },
})
