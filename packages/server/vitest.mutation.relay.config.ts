import { defineConfig } from 'vitest/config'

// The test run of `stryker.relay.config.mjs`: the relay's pure parts and their own tests (no
// sockets), so that a run over them takes minutes.
export default defineConfig({
  test: {
    include: ['src/relay/machine.test.ts', 'src/relay/rewind.test.ts'],
    testTimeout: 20_000,
  },
})
