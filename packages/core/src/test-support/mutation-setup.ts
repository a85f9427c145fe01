// Set up for StrykerJS's test runs only (vitest.mutation.config.ts): every mutant runs the tests
// that reach its code, and the property tests reach nearly all of the client. At full size they
// would make a mutation run of client/ take hours; bounded in time they still explore, and a
// property that would fail later is still run in full by `pnpm test`.
import fc from 'fast-check'

fc.configureGlobal({ interruptAfterTimeLimit: 300, markInterruptAsFailure: false })
