// The protocol as data: no effects, no imports beyond this folder.
export * from './events.js'
export * from './control.js'
export * from './close.js'
export * from './limits.js'
export * from './close-policy.js'
