// Throwaway Redis and PostgreSQL servers for the backend tests: on loopback, on a free port,
// in a temporary directory, stopped and removed afterwards. Missing programs are a clear
// failure, never a silent skip (`pnpm test:deps` installs them).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'

/** A free loopback port (asked of the kernel, then released for the service to take). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** Resolves when `child` prints a line matching `ready`; rejects if it exits first. */
function waitForLine(child: ChildProcess, ready: RegExp, what: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`${what} not ready within ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8')
      if (ready.test(output)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with ${code}:\n${output}`))
    })
  })
}

/** Stops a child process and waits for it to exit. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** A running redis-server. */
export interface RedisService {
  readonly url: string
  readonly port: number
  /** Stops the server (as a crash or an outage would look to clients). */
  stop(): Promise<void>
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  restart(): Promise<void>
}

/** Starts redis-server on a free loopback port with nothing persisted. */
export async function startRedis(): Promise<RedisService> {
  const binary = process.env.REDIS_SERVER ?? 'redis-server'
  if (spawnSync(binary, ['--version']).status !== 0) {
    throw new Error(`${binary} not found: run \`pnpm test:deps\` (apt-get install redis-server) to run the Redis backend tests`)
  }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'fates-rx-redis-'))
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    mkdirSync(dir, { recursive: true })
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    await waitForLine(child, /Ready to accept connections/, 'redis-server')
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child !== undefined) await stop(child)
      rmSync(dir, { recursive: true, force: true })
    },
    async restart() {
      if (child !== undefined) await stop(child)
      await launch()
    },
  }
}

/** A running PostgreSQL cluster with the original's `bots` and `servers` tables. */
export interface PostgresService {
  readonly url: string
  stop(): Promise<void>
  /** Ends every client session, as a database restart would. */
  terminateSessions(): Promise<void>
  /** Stops the server, keeping its data, until {@link resume}. */
  pause(): Promise<void>
  /** Starts it again on the same port with the same data. */
  resume(): Promise<void>
  /** Replaces the rows of `bots` and `servers`. */
  setIdentities(bots: readonly { id: string; token: string }[], servers: readonly { id: string; token: string }[]): Promise<void>
}

function postgresBin(): string {
  if (process.env.PG_BIN !== undefined) return process.env.PG_BIN
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) {
    throw new Error('PostgreSQL not found under /usr/lib/postgresql: run `pnpm test:deps` (apt-get install postgresql) or set PG_BIN')
  }
  return join(root, newest, 'bin')
}

/**
 * Starts a PostgreSQL cluster on a free loopback port. As root it runs as the `postgres` user
 * (PostgreSQL refuses root), through `runuser`.
 */
export async function startPostgres(): Promise<PostgresService> {
  const bin = postgresBin()
  const asRoot = process.getuid?.() === 0
  const dir = mkdtempSync(join(tmpdir(), 'fates-rx-pg-'))
  const run = (program: string, args: readonly string[]): [string, string[]] => {
    if (!asRoot) return [join(bin, program), [...args]]
    return ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]]
  }
  if (asRoot) {
    const user = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
    if (user.status !== 0) throw new Error('running as root needs a `postgres` user for PostgreSQL (apt-get install postgresql creates it)')
    const uid = Number(user.stdout.trim())
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim())
    chownSync(dir, uid, gid)
  }
  const data = join(dir, 'data')
  const [initdb, initArgs] = run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'])
  const init = spawnSync(initdb, initArgs, { encoding: 'utf8' })
  if (init.status !== 0) throw new Error(`initdb failed (${userInfo().username}):\n${init.stderr}`)
  const port = await freePort()
  const [postgres, args] = run('postgres', [
    '-D', data, '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
  ])
  let child: ChildProcess = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  await waitForLine(child, /ready to accept connections/, 'postgres')
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  let admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query('CREATE TABLE bots (bot_id bigint PRIMARY KEY, api_token text NOT NULL)')
  await admin.query('CREATE TABLE servers (guild_id bigint PRIMARY KEY, api_token text NOT NULL)')
  const shutdown = async (): Promise<void> => {
    await admin.end().catch(() => {})
    // pg_ctl's fast shutdown, run as the same user: runuser does not pass signals on.
    const [pgCtl, ctlArgs] = run('pg_ctl', ['stop', '-D', data, '-m', 'fast', '-w', '-t', '20'])
    const stopped = spawnSync(pgCtl, ctlArgs, { encoding: 'utf8' })
    await stop(child, stopped.status === 0 ? 'SIGTERM' : 'SIGKILL')
  }
  return {
    url,
    async setIdentities(bots, servers) {
      await admin.query('TRUNCATE bots, servers')
      for (const bot of bots) await admin.query('INSERT INTO bots VALUES ($1, $2)', [bot.id, bot.token])
      for (const server of servers) await admin.query('INSERT INTO servers VALUES ($1, $2)', [server.id, server.token])
    },
    async terminateSessions() {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
      )
    },
    pause: shutdown,
    async resume() {
      child = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      await waitForLine(child, /ready to accept connections/, 'postgres')
      admin = new pg.Client({ connectionString: url })
      await admin.connect()
    },
    async stop() {
      await shutdown()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
