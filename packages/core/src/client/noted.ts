import { Observable, Subscriber } from 'rxjs'
import type { FatesClient } from './fates-client.js'
import type { ConnectionStatus } from './connection/status.js'

/**
 * The client with `note` added to every status's detail: how an option that the environment
 * cannot honour (`shareAcrossTabs`, `persist`) says so, without failing the connection.
 */
export function noted(client: FatesClient, note: string): FatesClient {
  const status$ = new Observable<ConnectionStatus>((subscriber) => {
    // A Subscriber that ends with `subscriber` (not the observer object subscribe() would wrap
    // in one that does not): the client's status$ sees one that the replayed status already
    // ended (`status$.pipe(take(1))`) as closed, and opens nothing for it (ref-counted.ts).
    const inner = new Subscriber<ConnectionStatus>({
      next: (status) => subscriber.next({ ...status, detail: status.detail === undefined ? note : `${status.detail} (${note})` }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    })
    subscriber.add(inner)
    return client.status$.subscribe(inner)
  })
  return { ...client, status$ }
}
