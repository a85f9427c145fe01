import { connect } from '@fates-rx/core'
import type { OpenClient } from './view/target-panel.js'

/** Opens a `@fates-rx/core` client for a panel's settings. */
export const openClient: OpenClient = (settings) => {
  const client = connect({
    url: settings.url,
    id: settings.id,
    token: settings.token,
    bot: settings.kind === 'bot',
    sendAll: settings.sendAll,
    sendNone: settings.sendNone,
  })
  return {
    event$: client.event$,
    control$: client.control$,
    diagnostic$: client.diagnostic$,
    status$: client.status$,
    close: () => client.close(),
  }
}
