import { defineConfig } from 'vitest/config'

// Unit, property and integration tests live beside the code they test (`*.test.ts`, marble
// specs as `*.spec.ts`). Playwright's end-to-end files are `*.e2e.ts` under apps/*/e2e, so
// the two runners never pick up each other's files.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.{test,spec}.ts', 'apps/*/src/**/*.{test,spec}.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
})
