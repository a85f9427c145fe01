import { Observable } from 'rxjs'
import type { FatesClient } from './fates-client.js'
import type { ConnectionStatus } from './connection/status.js'

/**
 * The client with `note` added to every status's detail: how an option that the environment
 * cannot honour (`shareAcrossTabs`, `persist`) says so, without failing the connection.
 */
export function noted(client: FatesClient, note: string): FatesClient {
  const status$ = new Observable<ConnectionStatus>((subscriber) =>
    client.status$.subscribe({
      next: (status) => subscriber.next({ ...status, detail: status.detail === undefined ? note : `${status.detail} (${note})` }),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  )
  return { ...client, status$ }
}
