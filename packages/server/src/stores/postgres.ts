import pg from 'pg'
import { silentLogger, type Logger } from '../log.js'
import { redactUrl } from './redis.js'
import type { IdentityKind, TokenLookup } from './store.js'

/** Options of {@link PostgresTokens}. */
export interface PostgresTokensOptions {
  /** `postgres://user:password@host:port/db`; never logged (only host and port are). */
  readonly url: string
  /** Where connection trouble is reported. @default no logging */
  readonly logger?: Logger
  /** A query without an answer in this time fails (and its client gets 4500). @default 5000 */
  readonly queryTimeoutMs?: number
}

/** The original's queries, one per identity kind, parameterised. */
const TokenQuery: Readonly<Record<IdentityKind, string>> = Object.freeze({
  bot: 'SELECT api_token FROM bots WHERE bot_id = $1',
  server: 'SELECT api_token FROM servers WHERE guild_id = $1',
})

/** Error codes of a connection that went away; a query that met one is retried once. */
const ConnectionErrors = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08003', '08001'])

const isConnectionError = (error: unknown): boolean =>
  (error instanceof Error && /Connection terminated|connection timeout/i.test(error.message)) ||
  ConnectionErrors.has(String((error as { code?: unknown } | null)?.code ?? ''))

/**
 * Tokens from the original's PostgreSQL tables `bots(bot_id, api_token)` and
 * `servers(guild_id, api_token)`. A lost connection is reported and the pool reconnects on the
 * next query; a query that met a dropped connection is retried once.
 */
export class PostgresTokens implements TokenLookup {
  readonly #pool: pg.Pool
  readonly #logger: Logger
  readonly #where: string

  private constructor(options: PostgresTokensOptions) {
    const { url, logger = silentLogger, queryTimeoutMs = 5_000 } = options
    this.#logger = logger
    this.#where = redactUrl(url)
    this.#pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: queryTimeoutMs,
      query_timeout: queryTimeoutMs,
      idleTimeoutMillis: 30_000,
    })
    // An idle client whose server went away emits here; without a listener it would crash.
    this.#pool.on('error', (error) => this.#logger.error(`postgres (${this.#where}): ${error.message}; will reconnect`))
  }

  /** Connects and checks that both tables answer; rejects with a clear error otherwise. */
  static async connect(options: PostgresTokensOptions): Promise<PostgresTokens> {
    const tokens = new PostgresTokens(options)
    try {
      await tokens.#pool.query('SELECT 1 FROM bots LIMIT 0')
      await tokens.#pool.query('SELECT 1 FROM servers LIMIT 0')
    } catch (error) {
      await tokens.#pool.end().catch(() => {})
      throw new Error(`cannot use PostgreSQL at ${tokens.#where}: ${error instanceof Error ? error.message : String(error)}`)
    }
    return tokens
  }

  async tokenOf(kind: IdentityKind, id: string): Promise<string | undefined> {
    let result: pg.QueryResult<{ api_token: unknown }>
    try {
      result = await this.#pool.query(TokenQuery[kind], [id])
    } catch (error) {
      if (!isConnectionError(error)) throw error
      this.#logger.error(`postgres (${this.#where}): ${(error as Error).message}; retrying once`)
      result = await this.#pool.query(TokenQuery[kind], [id])
    }
    const token = result.rows[0]?.api_token
    return typeof token === 'string' ? token : undefined
  }

  /** Resolves once PostgreSQL answers a query; rejects while it does not (for `/healthz`). */
  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1')
  }

  /** Closes the pool. */
  async close(): Promise<void> {
    await this.#pool.end()
  }
}
