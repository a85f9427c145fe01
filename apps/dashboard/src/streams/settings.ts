import { isSnowflakeId, SnowflakeRule } from '@fates-rx/core/protocol'

/** What a target's connect panel holds. */
export interface TargetSettings {
  readonly url: string
  readonly kind: 'bot' | 'server'
  readonly id: string
  readonly token: string
  readonly sendAll: boolean
  readonly sendNone: boolean
  /**
   * The server's ratelimit window (ms), when it is not the original's 7 minutes (a server run
   * with `--rate-window`). Not in the form: only a prefill (`demo-target.json`) sets it.
   */
  readonly rateWindowMs?: number
}

/** Checks the form's values; returns an error sentence (never echoing the token) or nothing. */
export function settingsError(settings: TargetSettings): string | undefined {
  let url: URL
  try {
    url = new URL(settings.url)
  } catch {
    return 'The server URL is not a URL. It looks like wss://host/path.'
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return 'The server URL must start with ws:// or wss://.'
  if (url.username !== '' || url.password !== '' || url.search !== '') {
    return 'Put no credentials or query in the server URL; the token goes in its own field.'
  }
  // `hash` is '' for an empty fragment too; a '#' in the parsed href can only start one. A
  // browser's WebSocket refuses any fragment, which the client would retry as a drop forever.
  if (url.href.includes('#')) return 'Remove the # part from the server URL: a WebSocket URL has no fragment.'
  if (!isSnowflakeId(settings.id)) {
    return `The ID is a Discord snowflake: ${SnowflakeRule}.`
  }
  if (settings.token === '') return 'Enter the API token.'
  return undefined
}

