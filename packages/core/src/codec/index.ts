// The single source of truth for everything on the wire: codecs, their types, failure reports.
export * from './codecs.js'
export * from './describe-errors.js'
export * from './report.js'
export * from './contexts.js'
export { Redacted, redactSecret, redactor } from './redact.js'
export * from './position.js'
export { jsonFailure } from './json-failure.js'
export { goJson, goJsonWalk, goString } from './go-json.js'
