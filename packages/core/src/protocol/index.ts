// The protocol as data: no effects, no imports beyond this folder. Each frozen table is marked
// `@__PURE__` so that a bundler drops the ones an app never reads (Object.freeze is a call).
export * from './events.js'
export * from './control.js'
export * from './close.js'
export * from './limits.js'
export * from './close-policy.js'
export * from './relay.js'
