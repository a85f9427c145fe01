// Three instances of the CLI on one Redis, 300 clients spread over them, 10,000 events
// published through all three; one instance killed with SIGKILL mid-stream. The survivors
// keep serving, and each of their clients gets every event of its channels exactly once, in
// the same order as every other client of the channel.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { startRedis, type RedisService } from './services.js'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const admin = 'instances-admin-token'
const bots = ['811073947382579201', '811073947382579202', '811073947382579203'].map((id) => ({ id, token: `token-${id}` }))
const channels = [...bots.map((b) => `bot-${b.id}`), 'global']

let redis: RedisService
const children: ChildProcessWithoutNullStreams[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await redis.stop()
})

async function instance(): Promise<{ child: ChildProcessWithoutNullStreams; port: number }> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm run build\` first`)
  const args = ['--port', '0', '--redis', redis.url, '--admin-token', admin, '--rate-limit', '1000000', ...bots.flatMap((b) => ['--bot', `${b.id}:${b.token}`])]
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'pipe' })
  children.push(child)
  child.stderr.resume()
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`instance exited ${code}`)))
  })
  return { child, port: Number(/:(\d+)\/ws$/.exec(line)![1]) }
}

interface Client {
  readonly instance: number
  readonly channel: string
  readonly eids: string[]
  closed: boolean
}

function client(port: number, index: number, bot: (typeof bots)[number]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    const state: Client = { instance: index, channel: `bot-${bot.id}`, eids: [], closed: false }
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8')
      if (text.startsWith('{"code":"identity"')) ws.send(JSON.stringify({ id: bot.id, token: bot.token, bot: true }))
      else if (text.startsWith('{"code":"ready"')) resolve(state)
      else for (const segment of text.split('\x1f')) if (segment !== '') state.eids.push(/"eid":"([^"]+)"/.exec(segment)![1]!)
    })
    ws.on('close', () => (state.closed = true))
    ws.on('error', reject)
  })
}

describe('three instances on one Redis', () => {
  it('deliver every event exactly once, in one order per channel, when one is killed mid-stream', { timeout: 180_000 }, async () => {
    const instances = await Promise.all([instance(), instance(), instance()])
    const clients: Client[] = []
    for (let n = 0; n < 300; n++) {
      const at = n % 3
      clients.push(await client(instances[at]!.port, at, bots[Math.floor(n / 3) % 3]!))
    }
    const total = 10_000
    const batchSize = 100
    const eventOf = (n: number) => ({ channel: channels[n % channels.length]!, event: { m: { e: 16, eid: `e-${n}`, ts: n }, ctx: { user: '1' } } })
    const post = async (port: number, from: number): Promise<boolean> => {
      const body = JSON.stringify(Array.from({ length: batchSize }, (_, k) => eventOf(from + k)))
      try {
        const reply = await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body })
        return reply.status === 200
      } catch {
        return false
      }
    }
    const killed = 2
    let alive = [0, 1, 2]
    const batches = Array.from({ length: total / batchSize }, (_, b) => b * batchSize)
    // Three publishers, one per instance; the killed one's batches go to a survivor, same eids.
    await Promise.all(
      [0, 1, 2].map(async (publisher) => {
        for (let b = publisher; b < batches.length; b += 3) {
          let target = alive.includes(publisher) ? publisher : alive[b % alive.length]!
          const attempt = post(instances[target]!.port, batches[b]!)
          if (b === 50 && publisher === killed) {
            // Killed while its batch may be in flight: stored or not, nobody can tell.
            await new Promise((resolve) => setTimeout(resolve, 2))
            instances[killed]!.child.kill('SIGKILL')
            alive = [0, 1]
          }
          let ok = await attempt
          // A failed batch goes to a survivor with the same eids: if it was stored after all,
          // the eids make it a repeat, not a duplicate.
          while (!ok) {
            alive = alive.filter((i) => i !== target)
            target = alive[b % alive.length]!
            ok = await post(instances[target]!.port, batches[b]!)
          }
        }
      }),
    )
    const survivors = clients.filter((c) => c.instance !== killed)
    const expected = (channel: string): string[] =>
      Array.from({ length: total }, (_, n) => eventOf(n)).filter((e) => e.channel === channel || e.channel === 'global').map((e) => e.event.m.eid)
    const deadline = Date.now() + 60_000
    while (survivors.some((c) => c.eids.length < expected(c.channel).length) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    for (const c of survivors) {
      expect(c.closed).toBe(false)
      // Exactly once: as many as published, no eid twice, none missing.
      expect(new Set(c.eids).size).toBe(c.eids.length)
      expect([...c.eids].sort()).toEqual([...expected(c.channel)].sort())
    }
    for (const channel of channels.slice(0, 3)) {
      const orders = survivors.filter((c) => c.channel === channel).map((c) => c.eids.join(','))
      expect(new Set(orders).size).toBe(1)
    }
    // The killed instance's clients were cut off; their batch in flight went to a survivor.
    expect(instances[killed]!.child.signalCode).toBe('SIGKILL')
    expect(clients.filter((c) => c.instance === killed).every((c) => c.closed)).toBe(true)
  })
})
