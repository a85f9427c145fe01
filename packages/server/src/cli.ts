#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { DEMO_BOT } from './demo.js'
import { stderrLogger } from './log.js'
import { ServerDefaults, type ServerOptions } from './options.js'
import { startServer } from './start.js'
import type { Credentials } from './stores/store.js'
import { RelayDefaults, type RelayOptions } from './relay/options.js'
import { RelayCloseCode } from '@fates-rx/core/protocol'

/** Environment variables that supply options when their flag is absent. */
const EnvVar = Object.freeze({
  host: 'FATES_RX_HOST',
  port: 'FATES_RX_PORT',
  'admin-token': 'FATES_RX_ADMIN_TOKEN',
  redis: 'FATES_RX_REDIS_URL',
  postgres: 'FATES_RX_POSTGRES_URL',
  upstream: 'FATES_RX_UPSTREAM',
} as const)

/**
 * The relay's upstream credentials from the environment, so that they stay out of the process
 * list: comma-separated `bot:ID:TOKEN` / `server:ID:TOKEN`, added to `--upstream-bot` /
 * `--upstream-server`.
 */
const UpstreamCredentialsVar = 'FATES_RX_UPSTREAM_CREDENTIALS'

const usage = `Usage: fates-rx-server [options]

A Fates List websocket server faithful to the original. With no options it serves the demo
bot ${DEMO_BOT.id} (token "${DEMO_BOT.token}") with demo traffic.

Options:
  --host HOST               address to listen on (default ${ServerDefaults.host})
  --port PORT               port; 0 picks a free one (default ${ServerDefaults.port})
  --bot ID:TOKEN            a bot that may identify (repeatable)
  --server ID:TOKEN         a server (guild) that may identify (repeatable)
  --admin-token TOKEN       Bearer token for POST /publish and GET /metrics (default: generated, printed)
  --demo RATE               publish demo traffic, RATE events per second
  --rate-limit N            highest ratelimit counter allowed (default ${ServerDefaults.rateLimit})
  --rate-window SECONDS     ratelimit window (default ${ServerDefaults.rateWindowMs / 1000})
  --identify-timeout SECONDS  close with 4000 when no identify arrives in time (default ${ServerDefaults.identifyTimeoutMs / 1000}; 0 = never)
  --history N               events each channel keeps for send_all (default ${ServerDefaults.history})
  --max-queued-bytes N      close a viewer with 1008 once more than N bytes wait for it: it reads
                            too slowly (default ${ServerDefaults.maxQueuedBytes}; a send_all replay counts)
  --max-connections-per-address N  answer 429 to an upgrade from an address that has N open
                            (default 0: no limit; a public relay should set one, e.g. 32)
  --redis URL               keep events, pub/sub and ratelimits in Redis (shared by instances)
  --redis-write-original    with --redis: also append to the original's stored blob (its hash field ws);
                            migration only: every write rewrites the whole, never-trimmed blob
  --no-positions            stamp no m.pos on stored events and ignore an identify's "after":
                            every frame byte for byte what the original server sent
  --postgres URL            check tokens against the bots and servers tables in PostgreSQL
  --help                    show this text

Relay mode (one upstream connection per target, shared by any number of viewers):
  --upstream URL            relay from this upstream (an origin's or another relay's ws:// URL)
  --upstream-bot ID:TOKEN   a bot to relay, with the upstream's token for it (repeatable)
  --upstream-server ID:TOKEN  a server (guild) to relay, with the upstream's token (repeatable)
  --upstream-grace SECONDS  keep a target's upstream open this long after its last viewer left
                            (default ${RelayDefaults.graceMs / 1000})
  --upstream-retry SECONDS[:MAX]  retry a failed upstream after SECONDS, doubling (jittered ±20 %)
                            up to MAX (default ${RelayDefaults.retryMs / 1000}:${RelayDefaults.retryMaxMs / 1000}); SIGHUP or
                            POST /admin/upstreams/retry (Bearer admin token) retries at once
  In relay mode --bot/--server ID:TOKEN are the viewers' tokens for the relayed ids (each relayed
  id needs one, different from the upstream's); viewers are ratelimited per connection
  (--rate-limit, identify ${ServerDefaults.identifyCost}, message ${ServerDefaults.messageCost}), never by the upstream's per-id budget.
  While the upstream reconnects viewers stay connected and get "upstream_connecting", then
  "upstream_live"; when it fails (e.g. 4004) they get "upstream_failed" and close ${RelayCloseCode.UpstreamFailed} (the detail names
  the next retry), and "upstream_retrying" when a retry starts.
  ${UpstreamCredentialsVar}="bot:ID:TOKEN,server:ID:TOKEN" adds upstream credentials
  from the environment (tokens there cannot contain a comma).

Environment (flags win): ${Object.values(EnvVar).join(', ')}, and ${UpstreamCredentialsVar}.
Secrets are better passed there than as flags, which other users can see in the process list.

Prints "listening ws://HOST:PORT/ws" then the admin token on stdout when it generated one
("admin token as given" otherwise); logs go to stderr.
Also serves GET /metrics (Prometheus text, Bearer admin token) and GET /healthz (open).
Publish: curl -H "Authorization: Bearer TOKEN" -d '{"channel":"bot-ID","event":{"m":{"e":0},"ctx":{"user":"1","votes":1}}}' http://HOST:PORT/publish`

/** A CLI usage error: printed with a hint, exit code 2. */
class UsageError extends Error {}

function credentials(flag: string, values: readonly string[]): Credentials[] {
  return values.map((value) => {
    const colon = value.indexOf(':')
    if (colon <= 0 || colon === value.length - 1) throw new UsageError(`--${flag} expects ID:TOKEN`)
    return { id: value.slice(0, colon), token: value.slice(colon + 1) }
  })
}

/** Entries of {@link UpstreamCredentialsVar}, split by kind; errors name the entry's position, never its text. */
function upstreamCredentials(value: string | undefined): { bots: string[]; servers: string[] } {
  const bots: string[] = []
  const servers: string[] = []
  if (value === undefined || value.trim() === '') return { bots, servers }
  for (const [index, entry] of value.split(',').entries()) {
    const text = entry.trim()
    const colon = text.indexOf(':')
    const kind = text.slice(0, colon)
    if (colon <= 0 || (kind !== 'bot' && kind !== 'server')) {
      throw new UsageError(`${UpstreamCredentialsVar}: entry ${index + 1} must be bot:ID:TOKEN or server:ID:TOKEN`)
    }
    ;(kind === 'bot' ? bots : servers).push(text.slice(colon + 1))
  }
  return { bots, servers }
}

function number(flag: string, value: string | undefined, scale = 1): number | undefined {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`--${flag} expects a number, got "${value}"`)
  // Counts and ports are whole numbers; seconds become whole milliseconds. Rounding would turn
  // 0.5 into port 1, or a tiny timeout into 0, which means "never".
  if (scale === 1 && !Number.isInteger(parsed)) throw new UsageError(`--${flag} expects a whole number, got "${value}"`)
  const scaled = Math.round(parsed * scale)
  if (scaled === 0 && parsed !== 0) throw new UsageError(`--${flag} expects 0 or at least a millisecond, got "${value}"`)
  return scaled
}

function parse(argv: readonly string[]): ServerOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      bot: { type: 'string', multiple: true },
      server: { type: 'string', multiple: true },
      'admin-token': { type: 'string' },
      demo: { type: 'string' },
      'rate-limit': { type: 'string' },
      'rate-window': { type: 'string' },
      'identify-timeout': { type: 'string' },
      redis: { type: 'string' },
      history: { type: 'string' },
      'max-queued-bytes': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      'redis-write-original': { type: 'boolean' },
      'no-positions': { type: 'boolean' },
      postgres: { type: 'string' },
      upstream: { type: 'string' },
      'upstream-bot': { type: 'string', multiple: true },
      'upstream-server': { type: 'string', multiple: true },
      'upstream-grace': { type: 'string' },
      'upstream-retry': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true) return 'help'
  for (const [flag, name] of Object.entries(EnvVar) as [keyof typeof EnvVar, string][]) {
    const value = process.env[name]
    if (values[flag] === undefined && value !== undefined && value !== '') values[flag] = value
  }
  const bots = credentials('bot', values.bot ?? [])
  const servers = credentials('server', values.server ?? [])
  const demoRate = values.demo === undefined ? undefined : Number(values.demo)
  if (values.demo !== undefined && !(demoRate !== undefined && Number.isFinite(demoRate) && demoRate > 0)) {
    throw new UsageError(`--demo expects a rate in events per second > 0, got "${values.demo}"`)
  }
  const identities = bots.length + servers.length
  const fromEnv = upstreamCredentials(process.env[UpstreamCredentialsVar])
  const upstreamBots = [...credentials('upstream-bot', values['upstream-bot'] ?? []), ...credentials(`upstream-bot (from ${UpstreamCredentialsVar})`, fromEnv.bots)]
  const upstreamServers = [
    ...credentials('upstream-server', values['upstream-server'] ?? []),
    ...credentials(`upstream-server (from ${UpstreamCredentialsVar})`, fromEnv.servers),
  ]
  const relaying = values.upstream !== undefined
  if (!relaying && (upstreamBots.length + upstreamServers.length > 0 || values['upstream-grace'] !== undefined || values['upstream-retry'] !== undefined)) {
    throw new UsageError('--upstream-bot, --upstream-server, --upstream-grace, --upstream-retry and ' + UpstreamCredentialsVar + ' need --upstream URL')
  }
  if (relaying && values.demo !== undefined) throw new UsageError('--demo and --upstream exclude each other: a relay publishes what its upstream sends')
  const graceMs = number('upstream-grace', values['upstream-grace'], 1000)
  const [retryFirst, retryMax, ...extra] = values['upstream-retry']?.split(':') ?? []
  if (extra.length > 0) throw new UsageError(`--upstream-retry expects SECONDS or SECONDS:MAX_SECONDS, got "${values['upstream-retry']}"`)
  const retryMs = number('upstream-retry', retryFirst, 1000)
  const retryMaxMs = number('upstream-retry', retryMax, 1000)
  const relay: RelayOptions | undefined = relaying
    ? {
        upstream: values.upstream!,
        bots: upstreamBots,
        servers: upstreamServers,
        ...(graceMs === undefined ? {} : { graceMs }),
        ...(retryMs === undefined ? {} : { retryMs }),
        ...(retryMaxMs === undefined ? {} : { retryMaxMs }),
      }
    : undefined
  const options: Record<string, unknown> = {
    host: values.host,
    port: number('port', values.port),
    bots,
    servers,
    adminToken: values['admin-token'],
    // No identities, no store and no --demo: serve the demo bot with demo traffic. Never by
    // default into a real Redis or beside real tokens in PostgreSQL.
    demo: demoRate ?? (identities === 0 && !relaying && values.postgres === undefined && values.redis === undefined ? 5 : undefined),
    relay,
    rateLimit: number('rate-limit', values['rate-limit']),
    rateWindowMs: number('rate-window', values['rate-window'], 1000),
    identifyTimeoutMs: number('identify-timeout', values['identify-timeout'], 1000),
    history: number('history', values.history),
    maxQueuedBytes: number('max-queued-bytes', values['max-queued-bytes']),
    maxConnectionsPerAddress: number('max-connections-per-address', values['max-connections-per-address']),
    redis: values.redis,
    writeOriginalHistory: values['redis-write-original'],
    positions: values['no-positions'] === true ? false : undefined,
    postgres: values.postgres,
    logger: stderrLogger,
  }
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key]
  return options as ServerOptions
}

async function main(): Promise<void> {
  let options: ServerOptions | 'help'
  try {
    options = parse(process.argv.slice(2))
  } catch (error) {
    // parseArgs's error for a stray value quotes it: `--bot 42: TOKEN` (a space after the colon)
    // would print the token. That one names no value.
    const stray = (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    const message = stray
      ? 'a value without its flag (not shown: it may be a secret); each value follows its flag, as in --bot ID:TOKEN with no space'
      : error instanceof Error
        ? error.message
        : String(error)
    process.stderr.write(`fates-rx-server: ${message}\nTry --help.\n`)
    process.exitCode = 2
    return
  }
  if (options === 'help') {
    process.stdout.write(`${usage}\n`)
    return
  }
  let server
  try {
    server = await startServer(options)
  } catch (error) {
    process.stderr.write(`fates-rx-server: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
    return
  }
  if ((options.bots?.length ?? 0) + (options.servers?.length ?? 0) === 0 && options.postgres === undefined && options.demo === undefined) {
    stderrLogger.error('no --bot, --server or --postgres: every identify will be answered with invalid_auth')
  }
  process.stdout.write(`listening ${server.url}\n`)
  // A generated token is printed once, on stdout (the operator's; logs on stderr never hold
  // it), since nobody else knows it. A given one is never echoed: it came from a flag or the
  // environment, and stdout may be collected where the secret should not go.
  process.stdout.write(options.adminToken === undefined ? `admin token ${server.adminToken}\n` : 'admin token as given\n')
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    stderrLogger.info(`${signal}: closing every connection with 1001`)
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`fates-rx-server: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  // SIGHUP: the operator fixed the upstream (its credentials, its URL's host): retry every
  // failed upstream now rather than at its next backoff.
  process.on('SIGHUP', () => {
    const retried = server.retryUpstreams()
    stderrLogger.info(`SIGHUP: ${retried.length === 0 ? 'no failed upstream to retry' : `retrying ${retried.join(', ')}`}`)
  })
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

void main()
