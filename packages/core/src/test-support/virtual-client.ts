// A client on fake sockets in virtual time for the client's behaviour and state-table tests:
// every stream recorded, jitter fixed at the middle (random 0.5).
import type { ControlPayload, ReceivedEvent } from '../codec/index.js'
import type { Diagnostic } from '../operators/index.js'
import { connect } from '../client/connection/connect.js'
import type { ConnectionMetrics } from '../client/connection/metrics.js'
import type { ConnectOptions } from '../client/options.js'
import type { ConnectionState, ConnectionStatus } from '../client/connection/status.js'
import { Clock, fakeWebSockets } from './frames.js'

export const id = '811073947382579200'
export const token = 'tok-secret'

export function harness(extra: Partial<ConnectOptions> = {}) {
  const clock = new Clock()
  const fakes = fakeWebSockets()
  const client = connect({
    url: 'ws://127.0.0.1:9/ws',
    id,
    token,
    WebSocket: fakes.WebSocket,
    scheduler: clock,
    random: () => 0.5,
    ...extra,
  })
  const statuses: ConnectionStatus[] = []
  const events: ReceivedEvent[] = []
  const controls: ControlPayload[] = []
  const diagnostics: Diagnostic[] = []
  let metrics: ConnectionMetrics | undefined
  const subscriptions = [
    client.status$.subscribe((status) => statuses.push(status)),
    client.event$.subscribe((event) => events.push(event)),
    client.control$.subscribe((payload) => controls.push(payload)),
    client.diagnostic$.subscribe((diagnostic) => diagnostics.push(diagnostic)),
    client.metrics$.subscribe((value) => (metrics = value)),
  ]
  return {
    clock,
    ...fakes,
    client,
    statuses,
    events,
    controls,
    diagnostics,
    metrics: () => metrics as ConnectionMetrics,
    status: () => statuses.at(-1) as ConnectionStatus,
    state: (): ConnectionState => statuses.at(-1)?.state ?? 'closed',
    states: () => statuses.map((s) => s.state),
    eids: () => events.map((e) => e.m.eid),
    leave: () => {
      for (const subscription of subscriptions) subscription.unsubscribe()
    },
  }
}
