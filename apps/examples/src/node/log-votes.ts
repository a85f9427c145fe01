#!/usr/bin/env node
// Logs every vote for one bot as it arrives.
//
//   FATES_TOKEN=<api token> node log-votes.js --id 811073947382579200 [--url wss://…] [--all]
//
// The token is read from the environment, never from the command line, where other users of
// the machine could read it in the process list.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connect, EventName, ofEvent } from '@fates-rx/core'

const usage = 'usage: FATES_TOKEN=<token> log-votes --id <bot id> [--url <ws url>] [--all]'

/** Runs the script; resolves to the exit code once the connection ends or is interrupted. */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        id: { type: 'string' },
        url: { type: 'string', default: 'wss://api.fateslist.xyz/api/dragon/ws/' },
        all: { type: 'boolean', default: false },
      },
    }))
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`)
    return Promise.resolve(2)
  }
  const token = env['FATES_TOKEN']
  if (values.id === undefined || token === undefined || token === '') {
    console.error(usage)
    return Promise.resolve(2)
  }

  // Bad options throw here, with a message that names the option and never holds the token.
  const client = connect({ url: values.url, id: values.id, token, sendAll: values.all })
  return new Promise((resolve) => {
    const status = client.status$.subscribe((s) => {
      console.error(`status: ${s.state}${s.detail === undefined ? '' : ` (${s.detail})`}`)
      if (s.state === 'failed') finish(1)
    })
    const votes = client.event$.pipe(ofEvent(EventName.BotVote)).subscribe((vote) => {
      const at = vote.m.ts === undefined ? '' : `${new Date(vote.m.ts * 1000).toISOString()} `
      console.log(`${at}vote by ${String(vote.ctx.user)}: ${vote.ctx.votes} votes${vote.prior === true ? ' (replayed)' : ''}`)
    })
    function finish(code: number): void {
      votes.unsubscribe()
      status.unsubscribe()
      resolve(code)
    }
    signal?.addEventListener('abort', () => finish(0), { once: true })
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const interrupt = new AbortController()
  process.once('SIGINT', () => interrupt.abort())
  process.once('SIGTERM', () => interrupt.abort())
  process.exitCode = await main(process.argv.slice(2), process.env, interrupt.signal)
}
