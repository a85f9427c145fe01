import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startServer, type RunningServer } from '@fates-rx/server'
import { build } from 'esbuild'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

// Runs the example as users do: a separate Node process started with a flag and the token in
// its environment, against the project's own server in this process on a loopback port.
const bot = { id: '811073947382579200', token: 'example-token' }
const script = fileURLToPath(new URL('../../dist/node/log-votes.js', import.meta.url))
const vote = (votes: number) => ({ m: { e: 0, t: -1, ts: 1_700_000_000 }, ctx: { user: '563808552288780322', votes, test: false } })

let server: RunningServer | undefined
let child: ChildProcess | undefined

beforeAll(async () => {
  await build({
    entryPoints: [fileURLToPath(new URL('./log-votes.ts', import.meta.url))],
    outfile: script,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  })
})

afterEach(async () => {
  child?.kill('SIGKILL')
  await server?.close()
})

/** Starts the script; resolves once its status reaches `live` (or `failed`). */
async function run(args: readonly string[], env: Record<string, string>) {
  const started = spawn(process.execPath, [script, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } })
  child = started
  const out: string[] = []
  const err: string[] = []
  const stdout = createInterface({ input: started.stdout })
  stdout.on('line', (line) => out.push(line))
  const printed = (text: string) =>
    new Promise<void>((resolve) => stdout.on('line', (line) => line.includes(text) && resolve()))
  const stderr = createInterface({ input: started.stderr })
  const state = new Promise<string>((resolve) => {
    stderr.on('line', (line) => {
      err.push(line)
      const match = /^status: (live|failed)/.exec(line)
      if (match?.[1] !== undefined) resolve(match[1])
    })
  })
  const exited = once(started, 'exit') as Promise<[number | null]>
  return { out, err, state, exited, printed, child: started }
}

describe('examples/node: log-votes', () => {
  it('logs replayed and live votes, then exits cleanly on SIGINT', async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', bots: [bot], donePriorDelayMs: 20 })
    await server.publish(`bot-${bot.id}`, vote(56))
    const run1 = await run(['--url', server.url, '--id', bot.id, '--all'], { FATES_TOKEN: bot.token })
    expect(await run1.state).toBe('live')
    const liveLine = run1.printed('57 votes')
    await server.publish(`bot-${bot.id}`, vote(57))
    await liveLine
    run1.child.kill('SIGINT')
    expect((await run1.exited)[0]).toBe(0)
    expect(run1.out).toEqual([
      '2023-11-14T22:13:20.000Z vote by 563808552288780322: 56 votes (replayed)',
      '2023-11-14T22:13:20.000Z vote by 563808552288780322: 57 votes',
    ])
    expect(run1.err.join('\n')).not.toContain(bot.token)
  })

  it('fails with exit code 1 on a wrong token, and never prints it', async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', bots: [bot] })
    const run1 = await run(['--url', server.url, '--id', bot.id], { FATES_TOKEN: 'wrong-token' })
    expect(await run1.state).toBe('failed')
    expect((await run1.exited)[0]).toBe(1)
    expect(run1.err.join('\n')).not.toContain('wrong-token')
  })

  it.each([
    [[], 'no --id'],
    [['--id', bot.id, '--bogus'], 'an unknown flag'],
  ])('prints the usage and exits 2 on bad arguments (%j: %s)', async (args) => {
    const run1 = await run(args, { FATES_TOKEN: bot.token })
    expect((await run1.exited)[0]).toBe(2)
    expect(run1.err.join('\n')).toContain('usage: FATES_TOKEN=<token> log-votes')
  })
})
