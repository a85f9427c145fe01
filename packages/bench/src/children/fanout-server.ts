/**
 * Section 4's server process: `@fates-rx/server` with one bot per client, publishing on
 * `global` when asked. Reports its peak RSS (the kernel's high-water mark, VmHWM).
 *
 * argv: the number of bots, then optionally a Redis URL (the Redis backend: events stored and
 * published through Redis, as several instances would share them). IPC in:
 * `{ type: 'publish', count }`, `{ type: 'stats' }` (typed in ipc.ts).
 *
 * @packageDocumentation
 */
import { startServer } from '@fates-rx/server'
import { nowMicros } from '../child.js'
import { benchBots, benchEvent, memoryStats, PUBLISH_CHUNK } from '../fanout-shared.js'
import type { FanoutServerCommand, FanoutServerHello, FanoutServerReply } from '../ipc.js'

const tell = (message: FanoutServerReply | FanoutServerHello): void => void process.send?.(message)

const redis = process.argv[3]
const server = await startServer({
  port: 0,
  bots: benchBots(Number(process.argv[2] ?? 1)),
  adminToken: 'bench-admin-token',
  ...(redis === undefined ? {} : { redis }),
})

async function publish(total: number): Promise<void> {
  const startAt = nowMicros()
  for (let seq = 0; seq < total; ) {
    const pending: Promise<string>[] = []
    for (let i = 0; i < PUBLISH_CHUNK && seq < total; i++, seq++) pending.push(server.publish('global', benchEvent(seq)))
    await Promise.all(pending)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  tell({ type: 'published', startAt, endAt: nowMicros() })
}

process.on('message', (command: FanoutServerCommand) => {
  if (command.type === 'publish') void publish(command.count)
  else if (command.type === 'stats') tell({ type: 'stats', ...memoryStats() })
})
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0))
})
tell({ url: server.url })
