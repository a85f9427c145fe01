// Mutation testing of the relay's pure parts (its machine and the record's rewind):
// `pnpm test:mutation:relay` at the root (not part of `pnpm test`), about 3 minutes.
import base from './stryker.config.mjs'

/** Options: https://stryker-mutator.io/docs/stryker-js/configuration/ */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.relay.config.ts' },
  mutate: ['src/relay/machine.ts', 'src/relay/rewind.ts'],
  htmlReporter: { fileName: 'reports/mutation-relay/index.html' },
  jsonReporter: { fileName: 'reports/mutation-relay/mutation.json' },
}
