// Mutation testing of the connection machine alone (`pnpm test:mutation:machine`): the shared
// settings of stryker.config.mjs, the machine's files (its table, its handlers by concern and
// what they share), judged by the machine's own pure tests. A mutant these tests miss may still
// be killed by connect()'s real-socket tests: this score is a lower bound of the whole suite's,
// reached in minutes instead of the whole suite's hour and more.
import base from './stryker.config.mjs'

export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.machine.config.ts' },
  mutate: [
    'src/client/connection/machine.ts',
    'src/client/connection/decision.ts',
    'src/client/connection/handshake.ts',
    'src/client/connection/replay.ts',
    'src/client/connection/retry.ts',
  ],
  htmlReporter: { fileName: 'reports/mutation-machine/index.html' },
  jsonReporter: { fileName: 'reports/mutation-machine/mutation.json' },
}
