// Mutation testing of the server's pure protocol machine: `pnpm test:mutation:server` at the
// root (not part of `pnpm test`). It runs the protocol unit tests only (no sockets, no
// services), so a run over the machine takes minutes. Another file: `--mutate src/…`.

/** Options: https://stryker-mutator.io/docs/stryker-js/configuration/ */
export default {
  testRunner: 'vitest',
  // Named, not discovered: with pnpm's isolated node_modules Stryker cannot see the runner
  // from its own folder.
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: ['src/protocol/connection-machine.ts'],
  // The machine is shared; one test process at a time keeps the others usable.
  concurrency: 1,
  timeoutMS: 5_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
}
