// Connections the server turns away (an upgrade on another path, a malformed request, a
// request whose headers never finish) must give their file descriptor back even when the
// client never closes its side. The server runs in a child process so that its descriptors
// can be counted apart from the test's own sockets.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { connect as tcpConnect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { normalizeTs, RecordedBot, TestClient } from './harness.js'

const entry = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
let child: ChildProcessWithoutNullStreams | undefined
const sockets: Socket[] = []

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
  child?.kill('SIGKILL')
  child = undefined
})

/** Starts a server in a child process; resolves to its port. */
async function startChild(headersTimeoutMs: number): Promise<number> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm run build\` first`)
  const script = `
    import { startServer } from ${JSON.stringify(entry)}
    const server = await startServer({ port: 0, headersTimeoutMs: ${headersTimeoutMs}, bots: [${JSON.stringify(RecordedBot)}] })
    console.log(server.port)
  `
  child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child!.stdout }).once('line', resolve)
    child!.once('exit', (code) => reject(new Error(`server exited ${code}`)))
  })
  return Number(line)
}

const openDescriptors = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length

/** Polls until the child's descriptors are back to `baseline`; resolves to the last count. */
async function descriptorsSettle(pid: number, baseline: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs
  let count = openDescriptors(pid)
  while (count > baseline && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    count = openDescriptors(pid)
  }
  return count
}

/** A raw connection that never closes its side; resolves once it has sent `request`. */
async function stubborn(port: number, request: string): Promise<{ answer: () => string; ended: Promise<void> }> {
  const socket = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true })
  sockets.push(socket)
  socket.on('error', () => {})
  let answer = ''
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()))
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(request)
  return { answer: () => answer, ended }
}

const upgradeTo = (path: string): string =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`

describe('turned-away connections', () => {
  it.each([
    ['an upgrade on another path', upgradeTo('/elsewhere'), /^HTTP\/1\.1 404 /],
    ['a malformed request', 'NOT HTTP AT ALL\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['headers that never finish (slowloris)', 'GET /ws HTTP/1.1\r\nHost: x\r\n', /^HTTP\/1\.1 408 /],
  ])('give their descriptors back after %s, though the client never closes', async (_name, request, status) => {
    const port = await startChild(300)
    const pid = child!.pid!
    const baseline = openDescriptors(pid)
    const turnedAway = await Promise.all(Array.from({ length: 60 }, () => stubborn(port, request)))
    await Promise.all(turnedAway.map((c) => c.ended))
    for (const c of turnedAway) expect(c.answer()).toMatch(status)
    expect(await descriptorsSettle(pid, baseline, 5_000)).toBe(baseline)
    // And the server still serves.
    const client = await TestClient.open(`ws://127.0.0.1:${port}/ws`)
    await client.next()
    expect(normalizeTs(await client.identify({ id: RecordedBot.id, token: RecordedBot.token, bot: true }))).toContain('"code":"ready"')
    client.ws.terminate()
  })
})
