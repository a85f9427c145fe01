/**
 * The relay section's relay process: `@fates-rx/server` in relay mode in front of an origin
 * (a fanout-server.js process), relaying the first bench bot; viewers identify as that bot
 * with the relay's viewer token. Events published on the origin's `global` reach it through
 * its one upstream connection.
 *
 * argv: the origin's URL. IPC in: `{ type: 'stats' }` (answers {@link RelayStats}, its
 * upstream's status included, so the orchestrator can wait for `live`).
 *
 * @packageDocumentation
 */
import { startServer } from '@fates-rx/server'
import { benchBots, memoryStats, RelayViewerToken } from '../fanout-shared.js'
import type { FanoutServerCommand, FanoutServerHello, RelayStats } from '../ipc.js'

const tell = (message: RelayStats | FanoutServerHello): void => void process.send?.(message)

const [bot] = benchBots(1)
const server = await startServer({
  port: 0,
  bots: [{ id: bot!.id, token: RelayViewerToken }],
  adminToken: 'bench-admin-token',
  relay: { upstream: process.argv[2]!, bots: [bot!] },
})

process.on('message', (command: FanoutServerCommand) => {
  if (command.type === 'stats') tell({ type: 'stats', ...memoryStats(), upstream: server.upstreams()[0]?.status ?? 'idle' })
})
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0))
})
tell({ url: server.url })
