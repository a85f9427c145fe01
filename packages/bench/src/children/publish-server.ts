/**
 * Section publish's server process: `@fates-rx/server` on the memory store, one bot, the bench's
 * admin token, answering `POST /publish` while a client of the section receives on the bot's
 * channel. It says its port once listening and exits when the section disconnects.
 *
 * @packageDocumentation
 */
import { startServer } from '@fates-rx/server'
import { benchBots } from '../fanout-shared.js'
import { PublishAdminToken, type PublishServerHello } from '../ipc.js'

const server = await startServer({ port: 0, bots: benchBots(1), adminToken: PublishAdminToken })
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0))
})
const hello: PublishServerHello = { port: server.port }
process.send?.(hello)
