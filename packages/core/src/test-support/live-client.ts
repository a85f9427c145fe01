// A client on real sockets for the fault tests (scripted peer and real server alike): fast
// backoff, every status and event recorded, unsubscribed and closed by the test's cleanup.
import { filter, firstValueFrom, timeout } from 'rxjs'
import type { ReceivedEvent } from '../codec/index.js'
import { connect, type FatesClient } from '../client/connection/connect.js'
import type { ConnectOptions } from '../client/options.js'
import type { ConnectionStatus } from '../client/connection/status.js'

export function liveClient(cleanup: (() => unknown)[], options: Partial<ConnectOptions> & Pick<ConnectOptions, 'url' | 'id' | 'token'>) {
  const client = connect({ backoff: { initialDelayMs: 20, maxDelayMs: 100 }, ...options })
  const statuses: ConnectionStatus[] = []
  const events: ReceivedEvent[] = []
  const subs = [client.status$.subscribe((s) => statuses.push(s)), client.event$.subscribe((e) => events.push(e))]
  cleanup.push(() => {
    for (const s of subs) s.unsubscribe()
    client.close()
  })
  return { client, statuses, events }
}

/** The first status that passes `test`, or a timeout error. */
export const statusWhere = (client: FatesClient, test: (s: ConnectionStatus) => boolean, ms = 10_000) =>
  firstValueFrom(client.status$.pipe(filter(test), timeout(ms)))
