import { connect } from '@fates-rx/core'
import type { OpenClient } from './view/target-panel.js'
import { handedOver } from './handover.js'

/** Opens a `@fates-rx/core` client for a panel's settings. */
export const openClient: OpenClient = handedOver((settings) => {
  const client = connect({
    url: settings.url,
    id: settings.id,
    token: settings.token,
    bot: settings.kind === 'bot',
    sendAll: settings.sendAll,
    sendNone: settings.sendNone,
    // Every tab of this dashboard that watches the same target (url, kind, id and token) shares
    // one socket and one identify: under the original's ratelimit (ten identifies per 7
    // minutes per bot) a connection per tab and per reload would lock the bot out.
    // In a SharedWorker where the browser has one (a tab's reload then costs nothing while
    // another tab is open); elsewhere the tabs elect a leader.
    shareAcrossTabs: { worker: () => new SharedWorker(new URL('./fates-worker.ts', import.meta.url), { type: 'module', name: 'fates-rx' }) },
    // The default, relied on: a handover between tabs fills its gap like a reconnect does.
    resume: true,
    // A page is reloaded all day: keep, per target, the newest event delivered (the next load
    // fills the gap since it) and the identify ledger (no load identifies beyond the window's
    // budget; it waits and says until when). In localStorage, under a digest; never the token.
    persist: true,
    // Only when the server runs with another window (`--rate-window`): the prefill says so.
    ...(settings.rateWindowMs === undefined ? {} : { rateWindowMs: settings.rateWindowMs }),
  })
  return {
    event$: client.event$,
    control$: client.control$,
    diagnostic$: client.diagnostic$,
    status$: client.status$,
    metrics$: client.metrics$,
    close: () => client.close(),
  }
})
