// One pure operator per file; this index only re-exports them.
export * from './diagnostic.js'
export * from './split-frames.js'
export * from './decode-payloads.js'
export * from './partition-payloads.js'
export * from './from-frames.js'
export * from './dedupe-events.js'
export * from './of-event.js'
