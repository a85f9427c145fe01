// Mutation testing of the SharedWorker's hub machine alone (`pnpm test:mutation:hub`): the
// shared settings of stryker.config.mjs, its one file, judged by its own tests.
import base from './stryker.config.mjs'

export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.hub.config.ts' },
  mutate: ['src/client/tabs/hub-machine.ts'],
  htmlReporter: { fileName: 'reports/mutation-hub/index.html' },
  jsonReporter: { fileName: 'reports/mutation-hub/mutation.json' },
}
