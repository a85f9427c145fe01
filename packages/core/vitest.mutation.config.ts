import { defineConfig } from 'vitest/config'

// The test run StrykerJS uses (see stryker.config.mjs). It is core's part of the root
// vitest.config.ts, minus the three files that test the built `dist/` (its exports, the worker recipe and its
// bundle size): Stryker mutates `src/` in a sandbox without `dist/`, so they could neither
// kill a mutant nor pass there.
export default defineConfig({
  test: {
    include: ['src/**/*.{test,spec}.ts'],
    exclude: ['src/package.test.ts', 'src/bundle-size.test.ts', 'src/worker-recipe.test.ts'],
    setupFiles: ['src/test-support/mutation-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
