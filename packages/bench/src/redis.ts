/**
 * A throwaway redis-server for the fan-out section's Redis variant: loopback, a free port, a
 * temporary directory, nothing persisted. A missing redis-server is a clear error naming the
 * command that installs it.
 *
 * @packageDocumentation
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stop } from './child.js'

/** A running redis-server: its URL, and how to stop it and remove its directory. */
export interface Redis {
  readonly url: string
  close(): Promise<void>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no free port')
  return address.port
}

/** Starts redis-server (or `$REDIS_SERVER`) and resolves once it accepts connections. */
export async function startRedis(): Promise<Redis> {
  const binary = process.env['REDIS_SERVER'] ?? 'redis-server'
  if (spawnSync(binary, ['--version']).status !== 0) {
    throw new Error(`${binary} not found: \`pnpm test:deps\` installs it (apt-get install redis-server)`)
  }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'fates-rx-bench-redis-'))
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server not ready in 20 s:\n${output}`)), 20_000)
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8')
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${output}`))
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    async close() {
      await stop(child)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
