// The fates-rx-server command: spawned for real, as a user runs it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { normalizeTs, TestClient } from './harness.js'
import { startRedis } from './services.js'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const children: ChildProcessWithoutNullStreams[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

interface Started {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: string[]
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

async function run(args: readonly string[], env: Record<string, string> = {}): Promise<Started> {
  // The CLI is the built bin; `pnpm test` builds before it runs the tests.
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm run build\` first`)
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'pipe', env: { ...process.env, ...env } })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const lines: string[] = []
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const reader = createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line)
      if (lines.length === 2) resolve()
    })
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  return { child, lines, stderr: () => stderr, exited }
}

describe('fates-rx-server', () => {
  it('prints the URL then, for a given admin token, not the token; serves its bots, logs without tokens, exits 0 on Ctrl-C', async () => {
    const token = 'cli-bot-token-123'
    const admin = 'cli-admin-token-456'
    const { child, lines, stderr, exited } = await run(['--port', '0', '--bot', `42:${token}`, '--admin-token', admin])
    expect(lines[0]).toMatch(/^listening ws:\/\/127\.0\.0\.1:\d+\/ws$/)
    expect(lines[1]).toBe('admin token as given')
    const url = lines[0]!.slice('listening '.length)

    const client = await TestClient.open(url)
    await client.next()
    expect(normalizeTs(await client.identify({ id: '42', token, bot: true }))).toContain('"code":"ready"')
    const reply = await fetch(url.replace('ws://', 'http://').replace('/ws', '/publish'), {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      body: JSON.stringify({ channel: 'bot-42', event: { m: { e: 16 }, ctx: { user: '1' } } }),
    })
    expect(reply.status).toBe(200)
    expect(await client.next()).toContain('"chan":"bot-42"')

    child.kill('SIGINT')
    expect(await client.closed).toEqual({ code: 1001, reason: '' })
    expect(await exited).toBe(0)
    const log = stderr()
    expect(log).toMatch(/#1 open from 127\.0\.0\.1:\d+/)
    expect(log).toContain('#1 identified as bot 42')
    expect(log).toContain('#1 closed 1001')
    expect(log).not.toContain(token)
    expect(log).not.toContain(admin)
  })

  it('with no options serves the demo bot with demo traffic', async () => {
    const { child, lines, exited } = await run(['--port', '0'])
    expect(lines[1]).toMatch(/^admin token [0-9a-f]{64}$/)
    const client = await TestClient.open(lines[0]!.slice('listening '.length))
    await client.next()
    await client.identify({ id: '811073947382579200', token: 'fates-rx-demo-token', bot: true })
    expect(await client.next()).toContain('"chan":"bot-811073947382579200"')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('takes Redis and the admin token from the environment', async () => {
    const redis = await startRedis()
    try {
      const admin = 'env-admin-token-789'
      const { child, lines, exited } = await run(['--port', '0', '--bot', '42:t0ken-42'], {
        FATES_RX_REDIS_URL: redis.url,
        FATES_RX_ADMIN_TOKEN: admin,
      })
      expect(lines[1]).toBe('admin token as given')
      expect(lines.join('\n')).not.toContain(admin)
      const client = await TestClient.open(lines[0]!.slice('listening '.length))
      await client.next()
      expect(await client.identify({ id: '42', token: 't0ken-42', bot: true })).toContain('"code":"ready"')
      const store = new Redis(redis.url)
      expect(await store.get('wsrl-42-bot')).toBe('2')
      store.disconnect()
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      await redis.stop()
    }
  })

  it.each<[string[], RegExp]>([
    [['--redis', 'http://x'], /redis must be a redis:\/\/ URL/],
    [['--bot', 'nocolon'], /--bot expects ID:TOKEN/],
    [['--port', 'abc'], /--port expects a number/],
    [['--port', '70000'], /port must be ≤ 65535/],
    [['--demo', '0'], /--demo expects a rate/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--history', '0'], /history must be a whole number ≥ 1, got 0/],
    [['--redis-write-original'], /writeOriginalHistory writes the original's blob in Redis: it needs redis/],
    // A space after the colon: the token is a stray value, which parseArgs's own error quotes.
    [['--bot', '42:', 'stray-secret-token'], /^(?![\s\S]*stray-secret-token)[\s\S]*a value without its flag \(not shown: it may be a secret\)/],
  ])('rejects %j with a clear message', async (args, message) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: 'pipe' })
    children.push(child)
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).not.toBe(0)
    expect(stderr).toMatch(message)
  })

  it('prints usage with --help', async () => {
    const child = spawn(process.execPath, [cli, '--help'], { stdio: 'pipe' })
    children.push(child)
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0)
    expect(stdout).toContain('Usage: fates-rx-server')
    expect(stdout).toContain('--rate-window SECONDS')
    expect(stdout).toContain('--history N')
  })
})
