// Relay mode, end to end: an origin and relays as real `fates-rx-server` processes on loopback,
// viewers as websocket clients in this process.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type ConnectionStatus, type ControlPayload } from '@fates-rx/core'
import { RelayCloseCode, RelayCloseInfo, RelayControlCode } from '@fates-rx/core/protocol'
import { eventIds, quietFor, segments, TestClient } from './harness.js'
import { freePort } from './services.js'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
const BotId = '811073947382579200'
const UpstreamToken = 'upstream-origin-secret-7f3a9c'
const ViewerToken = 'viewer-token-public-page'
const OriginAdmin = 'origin-admin-token-1234'
const RelayAdmin = 'relay-admin-token-5678'

interface Process {
  readonly url: string
  readonly http: string
  readonly child: ChildProcessWithoutNullStreams
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

const children: ChildProcessWithoutNullStreams[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Starts the CLI and resolves once it printed its URL and admin line. */
async function start(args: readonly string[], env: Record<string, string> = {}): Promise<Process> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm run build\` first`)
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'pipe', env: { ...process.env, ...env } })
  children.push(child)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const lines: string[] = []
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      if (lines.length === 2) resolve()
    })
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  const url = lines[0]!.slice('listening '.length)
  return { url, http: url.replace('ws://', 'http://').replace(/\/ws$/, ''), child, stderr: () => stderr, exited }
}

const startOrigin = (port = 0, token = UpstreamToken): Promise<Process> =>
  start(['--port', String(port), '--bot', `${BotId}:${token}`, '--admin-token', OriginAdmin])

/** A relay taking the upstream token from the environment variable (the documented way). */
const startRelay = (upstream: string, args: readonly string[] = [], upstreamToken = UpstreamToken): Promise<Process> =>
  start(['--port', '0', '--upstream', upstream, '--bot', `${BotId}:${ViewerToken}`, '--admin-token', RelayAdmin, ...args], {
    FATES_RX_UPSTREAM_CREDENTIALS: `bot:${BotId}:${upstreamToken}`,
  })

async function stop(process: Process): Promise<void> {
  process.child.kill('SIGTERM')
  await process.exited
}

/** A free loopback port, for an origin that must come back on the same one. */
const scrape = async (p: Process, admin: string): Promise<string> =>
  (await fetch(`${p.http}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text()

/** The value of one sample in Prometheus text, 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

/** Identifies at the origin, every outcome. */
async function originIdentifies(origin: Process): Promise<number> {
  const text = await scrape(origin, OriginAdmin)
  return text
    .split('\n')
    .filter((l) => l.startsWith('fates_identifies_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ')[1]), 0)
}

async function healthz(p: Process): Promise<{ status: number; body: { status: string; upstreams?: Record<string, string> } }> {
  const reply = await fetch(`${p.http}/healthz`)
  return { status: reply.status, body: (await reply.json()) as { status: string; upstreams?: Record<string, string> } }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await quietFor(25)
  }
}

const upstreamLive = (relay: Process) => async () => (await healthz(relay)).body.upstreams?.[`bot-${BotId}`] === 'live'

/** Publishes at the origin (eids chosen here, so that a retry is recognized); resolves to them. */
async function publish(origin: Process, count: number, from = 0): Promise<string[]> {
  const eids = Array.from({ length: count }, (_, i) => `relay-test-${from + i}`)
  const body = eids.map((eid, i) => ({ channel: `bot-${BotId}`, event: { m: { e: 16, eid }, ctx: { user: String(from + i + 1), widget: false } } }))
  const reply = await fetch(`${origin.http}/publish`, { method: 'POST', headers: { authorization: `Bearer ${OriginAdmin}` }, body: JSON.stringify(body) })
  if (reply.status !== 200) throw new Error(`publish answered ${reply.status}`)
  return eids
}

/** A raw viewer: connects, identifies with the viewer token, returns once `ready` came. */
async function viewer(relay: Process, token = ViewerToken): Promise<{ client: TestClient; reply: string }> {
  const client = await TestClient.open(relay.url)
  await client.next()
  const reply = await client.identify({ id: BotId, token, bot: true })
  return { client, reply }
}

/** Every payload a viewer received, parsed. */
const payloads = (client: TestClient): { code: string; control: boolean; dat?: { m: { eid: string } }; detail?: string }[] =>
  client.frames.flatMap((frame) => segments(frame).map((s) => JSON.parse(s) as { code: string; control: boolean }))


/** Runs `task` over `items`, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  for (let i = 0; i < items.length; i += width) results.push(...(await Promise.all(items.slice(i, i + width).map(task))))
  return results
}

describe('relay mode', () => {
  it('200 viewers connecting and reconnecting 5 times cost one upstream identify; each gets every event once, in order; no token leaks', async () => {
    const origin = await startOrigin()
    const relay = await startRelay(origin.url)
    const everyFrame: string[] = []
    const viewers = Array.from({ length: 200 }, (_, i) => i)

    // Five rounds of connect, identify, close; the sixth connection stays.
    let connected: TestClient[] = []
    for (let round = 0; round < 6; round++) {
      connected = await inBatches(viewers, 50, async () => {
        const { client, reply } = await viewer(relay)
        expect(reply).toContain('"code":"ready"')
        return client
      })
      if (round === 5) break
      await Promise.all(connected.map((c) => c.close()))
      for (const c of connected) everyFrame.push(...c.frames)
    }
    await until('the upstream to be live', upstreamLive(relay))

    const eids = [...(await publish(origin, 30)), ...(await publish(origin, 30, 30))]
    await until('every viewer to have every event', () => connected.every((c) => eventIds(c).length >= eids.length))
    await quietFor(200)
    for (const client of connected) expect(eventIds(client)).toEqual(eids)

    // One identify for all 1,200 viewer connections (the issue allows 2).
    expect(await originIdentifies(origin)).toBe(1)
    const metrics = await scrape(relay, RelayAdmin)
    expect(sample(metrics, `fates_upstream_status{target="bot-${BotId}",status="live"}`)).toBe(1)
    expect(sample(metrics, `fates_upstream_viewers{target="bot-${BotId}"}`)).toBe(200)
    expect(sample(metrics, `fates_upstream_connections_opened_total{target="bot-${BotId}"}`)).toBe(1)
    expect(sample(metrics, `fates_upstream_events_received_total{target="bot-${BotId}"}`)).toBe(60)
    expect(sample(metrics, 'fates_identifies_total{outcome="ready"}')).toBe(1200)

    for (const c of connected) everyFrame.push(...c.frames)
    const health = JSON.stringify((await healthz(relay)).body)
    await Promise.all(connected.map((c) => c.close()))
    await stop(relay)
    const seen = [...everyFrame, relay.stderr(), metrics, health]
    expect(everyFrame.length).toBeGreaterThan(1200 * 2)
    for (const text of seen) expect(text).not.toContain(UpstreamToken)
    expect(relay.stderr()).toContain('upstream bot')
    await stop(origin)
  })

  it('the origin restarted mid-stream: viewers stay connected, are told, and lose no event', async () => {
    const port = await freePort()
    let origin = await startOrigin(port)
    const relay = await startRelay(origin.url)
    const viewers = await inBatches(Array.from({ length: 20 }, (_, i) => i), 20, async () => (await viewer(relay)).client)
    // A viewer through core's client too, as a page would be.
    const statuses: ConnectionStatus[] = []
    const controls: ControlPayload[] = []
    const client = connect({ url: relay.url, id: BotId, token: ViewerToken })
    client.status$.subscribe((s) => statuses.push(s))
    client.control$.subscribe((c) => controls.push(c))
    const received: string[] = []
    client.event$.subscribe((e) => received.push(e.m.eid!))
    await until('the upstream to be live', upstreamLive(relay))

    // A producer publishing one event every 10 ms, retrying each (same eid) until an origin
    // takes it, while the origin is stopped after the 20th and started again on the same port.
    const eids: string[] = []
    let current = origin
    const producer = (async () => {
      for (let i = 0; i < 60; i++) {
        for (;;) {
          try {
            eids.push(...(await publish(current, 1, i)))
            break
          } catch {
            await quietFor(20)
          }
        }
        await quietFor(10)
      }
    })()
    await until('20 events', () => eids.length >= 20)
    const before = viewers.map((v) => payloads(v).length)
    await stop(origin)
    // The relay notices the drop and tells its viewers; they stay connected.
    await until('viewers to hear the upstream is down', () =>
      viewers.every((v) => payloads(v).slice(before[viewers.indexOf(v)]).some((p) => p.code === RelayControlCode.UpstreamConnecting)),
    )
    origin = current = await startOrigin(port)
    await producer
    await until('every event', () => viewers.every((v) => eventIds(v).length >= 60) && received.length >= 60)
    await quietFor(200)

    for (const [index, v] of viewers.entries()) {
      expect(eventIds(v)).toEqual(eids)
      expect(v.ws.readyState).toBe(v.ws.OPEN)
      const told = payloads(v).slice(before[index]).filter((p) => p.control).map((p) => p.code)
      expect(told).toEqual([RelayControlCode.UpstreamConnecting, RelayControlCode.UpstreamLive])
    }
    expect(received).toEqual(eids)
    expect(statuses.at(-1)?.state).toBe('live')
    expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([])
    expect(controls.map((c) => c.code)).toContain(RelayControlCode.UpstreamLive)
    client.close()
    for (const v of viewers) expect(v.frames.join('')).not.toContain(UpstreamToken)
    await Promise.all(viewers.map((v) => v.close()))
    await stop(relay)
    expect(relay.stderr()).not.toContain(UpstreamToken)
    await stop(origin)
  })

  it('an upstream answering 4004: viewers get upstream_failed and close 4503, later ones at identify; viewers never make the relay retry', async () => {
    const origin = await startOrigin()
    const relay = await startRelay(origin.url, [], 'a-wrong-upstream-token')
    const first = await viewer(relay)
    expect(first.reply).toContain('"code":"ready"')
    const closed = await first.client.closed
    expect(closed).toEqual({ code: RelayCloseCode.UpstreamFailed, reason: RelayCloseInfo[RelayCloseCode.UpstreamFailed].reason })
    const failed = payloads(first.client).find((p) => p.code === RelayControlCode.UpstreamFailed)
    expect(failed?.detail).toContain('4004')
    expect(failed?.detail).toMatch(/tries again at \d{4}-/)

    // Core's client: passes the payload on control$, backs off on 4503 (no storm, and it comes
    // back by itself once the relay is fixed and restarted).
    const controls: string[] = []
    const statuses: ConnectionStatus[] = []
    const client = connect({ url: relay.url, id: BotId, token: ViewerToken })
    client.control$.subscribe((c) => controls.push(c.code))
    client.status$.subscribe((s) => statuses.push(s))
    await until('the client to back off', () => statuses.some((s) => s.state === 'reconnecting'))
    expect(controls).toContain(RelayControlCode.UpstreamFailed)
    expect(controls).not.toContain('ready')
    expect(statuses.find((s) => s.state === 'reconnecting')?.close?.code).toBe(RelayCloseCode.UpstreamFailed)
    client.close()

    // Viewers keep coming; the origin sees the one identify the relay made, however long.
    const later = await inBatches(Array.from({ length: 30 }, (_, i) => i), 30, async () => {
      const c = await TestClient.open(relay.url)
      await c.next()
      c.send(JSON.stringify({ id: BotId, token: ViewerToken, bot: true }))
      return { payload: await c.next(), closed: await c.closed }
    })
    for (const { payload, closed } of later) {
      expect(JSON.parse(payload)).toMatchObject({ code: RelayControlCode.UpstreamFailed, control: true })
      expect(closed.code).toBe(RelayCloseCode.UpstreamFailed)
    }
    await quietFor(1_500)
    expect(await originIdentifies(origin)).toBe(1)
    const health = await healthz(relay)
    expect(health).toEqual({ status: 503, body: { status: 'not ready', upstreams: { [`bot-${BotId}`]: 'failed' } } })
    const metrics = await scrape(relay, RelayAdmin)
    expect(sample(metrics, `fates_upstream_status{target="bot-${BotId}",status="failed"}`)).toBe(1)
    await stop(relay)
    expect(relay.stderr()).toContain('upstream failed, retrying in')
    expect(relay.stderr()).not.toContain('a-wrong-upstream-token')
    await stop(origin)
  })

  it('a failed upstream retried at once by POST /admin/upstreams/retry and SIGHUP: refused again, then fixed and live; attempts in /metrics and in viewers\' payloads', async () => {
    const port = await freePort()
    // The origin does not know the relay's token: 4004, core's client ends `failed`.
    let origin = await startOrigin(port, 'the-origins-other-token')
    const relay = await startRelay(`ws://127.0.0.1:${port}/ws`, ['--upstream-retry', '600'])
    const first = await viewer(relay)
    expect((await first.client.closed).code).toBe(RelayCloseCode.UpstreamFailed)
    await until('the upstream to fail', async () => (await healthz(relay)).body.upstreams?.[`bot-${BotId}`] === 'failed')
    const retries = async () => sample(await scrape(relay, RelayAdmin), `fates_upstream_retries_total{target="bot-${BotId}"}`)
    expect(await retries()).toBe(0)

    // The admin endpoint: the token from the header only, never echoed; GET is not it.
    const retry = (authorization?: string, method = 'POST') =>
      fetch(`${relay.http}/admin/upstreams/retry`, { method, headers: authorization === undefined ? {} : { authorization } })
    const unauthorized = await retry()
    expect(unauthorized.status).toBe(401)
    expect(await unauthorized.text()).not.toContain(RelayAdmin)
    expect((await retry(`Bearer ${OriginAdmin}`)).status).toBe(401)
    expect((await retry(`Bearer ${RelayAdmin}`, 'GET')).status).toBe(405)
    const asked = await retry(`Bearer ${RelayAdmin}`)
    expect(asked.status).toBe(202)
    expect(await asked.json()).toEqual({ retried: [`bot-${BotId}`] })
    // Still refused: the attempt is counted, fails again, and waits on its (long) backoff.
    await until('the retry to reach the origin', async () => (await originIdentifies(origin)) === 2)
    await until('the retry to fail', async () => (await healthz(relay)).body.upstreams?.[`bot-${BotId}`] === 'failed')
    expect(await retries()).toBe(1)
    expect((await healthz(relay)).status).toBe(503)
    // A viewer arriving now is refused with the failure and the next retry's time.
    const again = await viewer(relay)
    const refusal = payloads(again.client).find((p) => p.code === RelayControlCode.UpstreamFailed)
    expect(refusal?.detail).toMatch(/4004.*tries again at \d{4}-/)

    // The operator takes the origin down to fix it, and sends SIGHUP before it is back: the
    // attempt starts (core's client backs off on the refused TCP connection), and a viewer who
    // identifies meanwhile hears that the upstream is being retried.
    await stop(origin)
    relay.child.kill('SIGHUP')
    await until('the retry to start', async () => (await retries()) === 2)
    expect((await healthz(relay)).status).toBe(503)
    const during = await viewer(relay)
    expect(during.reply).toContain('"code":"ready"')
    await until('the retry payload', () => payloads(during.client).some((p) => p.code === RelayControlCode.UpstreamRetrying))
    expect(payloads(during.client).find((p) => p.code === RelayControlCode.UpstreamRetrying)?.detail).toMatch(/retrying its failed upstream \(attempt 2\)/)
    // The origin is back, knowing the relay's token: the same attempt comes live.
    origin = await startOrigin(port)
    await until('the upstream to come live', upstreamLive(relay))
    expect(await retries()).toBe(2)
    expect(await originIdentifies(origin)).toBe(1)
    expect((await healthz(relay)).status).toBe(200)
    await until('upstream_live for the viewer who waited', () => payloads(during.client).some((p) => p.code === RelayControlCode.UpstreamLive))
    expect(await (await retry(`Bearer ${RelayAdmin}`)).json()).toEqual({ retried: [] })

    // Viewers are served again: ready, then the events.
    const back = await viewer(relay)
    expect(back.reply).toContain('"code":"ready"')
    const eids = await publish(origin, 3)
    await until('the events to reach the viewer', () => eventIds(back.client).length === 3)
    expect(eventIds(back.client)).toEqual(eids)
    await until('the events to reach the viewer who waited', () => eventIds(during.client).length === 3)
    expect(eventIds(during.client)).toEqual(eids)
    back.client.close()
    during.client.close()

    const metrics = await scrape(relay, RelayAdmin)
    await stop(relay)
    for (const text of [metrics, relay.stderr(), ...first.client.frames, ...again.client.frames, ...back.client.frames, ...during.client.frames]) {
      expect(text).not.toContain(UpstreamToken)
      expect(text).not.toContain(RelayAdmin)
    }
    expect(relay.stderr()).toMatch(/SIGHUP: retrying bot-\d+/)
    expect(relay.stderr()).toMatch(/retrying the failed upstream \(attempt 1, the operator asked\)/)
    await stop(origin)
  })

  it('relay → relay → origin: events keep their eids, an origin restart reaches the end of the chain, send_all replays the second relay\'s history', async () => {
    const port = await freePort()
    let origin = await startOrigin(port)
    const first = await startRelay(origin.url)
    // The second relay identifies at the first with the first's viewer token, from a flag.
    const second = await start(['--port', '0', '--upstream', first.url, '--upstream-bot', `${BotId}:${ViewerToken}`, '--bot', `${BotId}:second-viewer-token`])
    const { client, reply } = await viewer(second, 'second-viewer-token')
    expect(reply).toContain('"code":"ready"')
    await until('the second relay to be live', upstreamLive(second))
    await until('the first relay to be live', upstreamLive(first))
    const eids = await publish(origin, 10)
    await until('the events', () => eventIds(client).length >= 10)
    expect(eventIds(client)).toEqual(eids)

    // The origin restarts: the first relay's trouble is passed down the chain.
    const before = payloads(client).length
    await stop(origin)
    await until('the viewer at the end of the chain to hear it', () =>
      payloads(client).slice(before).some((p) => p.code === RelayControlCode.UpstreamConnecting),
    )
    origin = await startOrigin(port)
    eids.push(...(await publish(origin, 10, 10)))
    await until('the rest of the events', () => eventIds(client).length >= 20)
    await until('upstream_live at the end of the chain', () => payloads(client).slice(before).some((p) => p.code === RelayControlCode.UpstreamLive))
    expect(eventIds(client)).toEqual(eids)

    const late = connect({ url: second.url, id: BotId, token: 'second-viewer-token', sendAll: true })
    const replayed: string[] = []
    late.event$.subscribe((e) => replayed.push(e.m.eid!))
    await until('the replay', () => replayed.length >= 20)
    expect(replayed).toEqual(eids)
    late.close()
    await client.close()
    // One identify at the origin before its restart, one after.
    expect(await originIdentifies(origin)).toBe(1)
    for (const p of [second, first, origin]) await stop(p)
  })

  it('keeps the upstream for --upstream-grace after the last viewer, then closes it; the next viewer opens a new one', async () => {
    const origin = await startOrigin()
    const relay = await startRelay(origin.url, ['--upstream-grace', '0.3'])
    const first = await viewer(relay)
    await until('the upstream to be live', upstreamLive(relay))
    await first.client.close()
    // Back within the grace period: the same upstream connection.
    const second = await viewer(relay)
    await quietFor(400)
    expect((await healthz(relay)).body.upstreams).toEqual({ [`bot-${BotId}`]: 'live' })
    await second.client.close()
    await until('the upstream to close', async () => (await healthz(relay)).body.upstreams?.[`bot-${BotId}`] === 'idle')
    expect(await originIdentifies(origin)).toBe(1)
    const third = await viewer(relay)
    await until('the upstream to be live again', upstreamLive(relay))
    expect(await originIdentifies(origin)).toBe(2)
    const metrics = await scrape(relay, RelayAdmin)
    expect(sample(metrics, `fates_upstream_connections_opened_total{target="bot-${BotId}"}`)).toBe(2)
    await third.client.close()
    await stop(relay)
    await stop(origin)
  })

  it('refuses bad relay flags with clear errors that never echo a token (the rest of the checks: relay/options.test.ts)', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--upstream-bot', `${BotId}:secret-x1`], {}, /need --upstream URL/],
      [['--upstream', 'ws://127.0.0.1:1/ws', '--bot', `${BotId}:v`], { FATES_RX_UPSTREAM_CREDENTIALS: `robot:${BotId}:secret-x1` }, /entry 1 must be bot:ID:TOKEN/],
      [['--upstream', 'ws://127.0.0.1:1/ws', '--upstream-bot', `${BotId}:secret-x1`, '--bot', `${BotId}:secret-x1`], {}, /must differ/],
      [['--upstream-retry', '60'], {}, /--upstream-retry and .* need --upstream URL/],
      [['--upstream', 'ws://127.0.0.1:1/ws', '--upstream-bot', `${BotId}:secret-x1`, '--bot', `${BotId}:v`, '--upstream-retry', '60:30'], {}, /relay.retryMaxMs must be a whole number ≥ relay.retryMs \(60000\)/],
      [['--upstream', 'ws://127.0.0.1:1/ws', '--upstream-bot', `${BotId}:secret-x1`, '--bot', `${BotId}:v`, '--upstream-retry', '1:2:3'], {}, /--upstream-retry expects SECONDS or SECONDS:MAX_SECONDS/],
    ]
    await Promise.all(
      cases.map(async ([args, env, message]) => {
        const child = spawn(process.execPath, [cli, '--port', '0', ...args], { stdio: 'pipe', env: { ...process.env, ...env } })
        let stderr = ''
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
        expect(code, stderr).not.toBe(0)
        expect(stderr).toMatch(message)
        expect(stderr).not.toContain('secret-x1')
      }),
    )
  })
})
