// Mutation testing of core's pure parts: `pnpm test:mutation` at the root (not part of
// `pnpm test`: mutating all of them takes about 36 minutes on two cores). For a local run,
// narrow it to a file or two, which replaces `mutate` below:
//   pnpm test:mutation --mutate src/client/connection/metrics.ts
// socket/ is left out on purpose: it is the one effectful file, tested against real sockets.

/** Options: https://stryker-mutator.io/docs/stryker-js/configuration/ */
export default {
  testRunner: 'vitest',
  // Named, not discovered: with pnpm's isolated node_modules Stryker cannot see the runner
  // from its own folder, so it finds no plugin by its `@stryker-mutator/*` glob.
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // perTest: each mutant runs only the tests that reached its code, which is what makes a
  // run of this size feasible at all.
  coverageAnalysis: 'perTest',
  mutate: [
    'src/operators/**/*.ts',
    'src/client/**/*.ts',
    'src/codec/**/*.ts',
    '!src/**/*.test.ts',
    '!src/**/*.spec.ts',
    '!src/**/*.test-d.ts',
    '!src/test-support/**',
    '!src/testing/**',
  ],
  // The machine is shared; one test process at a time keeps the others usable.
  concurrency: 1,
  // Stryker's limit is 1.5 × a test's time in the dry run plus this; the default 5 s leaves the
  // real-server tests room, and a mutant that loops forever (a probe loop never ending, which
  // counts as killed) costs no more than that.
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // No `thresholds.break`: the score is recorded in the README and read, not a gate (yet).
}
