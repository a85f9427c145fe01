import type { IncomingMessage, ServerResponse } from 'node:http'
import { PublishError } from './publish.js'
import { jsonFailure } from '@fates-rx/core/protocol'
import { secretMatcher } from './secret.js'
import { describe, type Logger } from './log.js'
import type { FatesServer } from './protocol/make-server.js'
import type { PublishRequest } from './protocol/publish-events.js'
import type { Registry } from 'prom-client'
import { storeAnswers } from './metrics.js'
import { StoreOutcomeUnknown, type Store } from './stores/store.js'
import type { Relay } from './relay/relay.js'

/** What a publish body must be. */
const BodyShape = 'body must be a JSON object {"channel": …, "event": {"m": …, "ctx": …}} or an array of them'

/** The largest publish body accepted. */
const MaxBodyBytes = 1024 * 1024

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/**
 * Answers a request whose body the server will not read, and closes its connection. Without
 * `Connection: close` Node would read and discard the body to keep the connection alive,
 * however large it is; with it, Node destroys the socket once the answer is written.
 */
function refuse(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  reply(res, status, body, { connection: 'close', ...headers })
}

/** The body as text, or `undefined` once it exceeds the limit (the rest is left unread). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > MaxBodyBytes) {
        req.off('data', onData)
        req.off('end', onEnd)
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => resolve(Buffer.concat(chunks).toString('utf8'))
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', reject)
  })
}

/** What `/metrics` and `/healthz` observe. */
interface Observed {
  readonly metrics: Registry
  /** What must answer a ping for the server to be ready: the store, and PostgreSQL's tokens. */
  readonly store: Pick<Store, 'ping'>
  /** Relay mode: the relayed targets' upstreams. */
  readonly relay?: Pick<Relay, 'upstreams' | 'retryNow'>
}

/** Answers 401 and closes, without reading a body. */
const unauthorized = (res: ServerResponse): void =>
  refuse(res, 401, { error: 'unauthorized: send Authorization: Bearer <admin token>' }, { 'www-authenticate': 'Bearer' })

/** Serves `GET /metrics` and `GET /healthz`. */
async function observe(path: '/metrics' | '/healthz', res: ServerResponse, observed: Observed): Promise<void> {
  const { metrics, store, relay } = observed
  if (path === '/healthz') {
    // Ready or not, nothing else: no store name, address or error text. A relay adds each
    // target's upstream status, and is not ready while one has failed, or is opening and has
    // not been live since (silent TCP, no identity, a 5xx): a load balancer must not send
    // viewers where they would only wait.
    const upstreams = relay?.upstreams()
    const up = (await storeAnswers(store)) && (upstreams ?? []).every((u) => u.ready)
    const body = { status: up ? 'ready' : 'not ready', ...(upstreams === undefined ? {} : { upstreams: Object.fromEntries(upstreams.map((u) => [u.target, u.status])) }) }
    reply(res, up ? 200 : 503, body, { 'cache-control': 'no-store' })
    return
  }
  const text = await metrics.metrics()
  res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

/**
 * The HTTP side of the port: `POST /publish` (Bearer admin token) stores and delivers an event
 * or a batch like the original's producer; `GET /metrics` (Bearer admin token) and
 * `GET /healthz` (open) observe the server; everything else is 404.
 */
export function httpHandler(
  server: FatesServer,
  adminToken: string,
  logger: Logger,
  observed: Observed,
): (req: IncomingMessage, res: ServerResponse) => void {
  const matches = secretMatcher(adminToken)
  // The scheme is case-insensitive (RFC 9110 section 11.1): `bearer` and `BEARER` are Bearer.
  const authorized = (header: string): boolean => {
    const scheme = /^bearer +/i.exec(header)
    return matches(scheme === null ? '' : header.slice(scheme[0].length)) && scheme !== null
  }
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/metrics' || path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        refuse(res, 405, { error: 'method not allowed: use GET' }, { allow: 'GET, HEAD' })
        return
      }
      if (path === '/metrics' && !authorized(req.headers.authorization ?? '')) {
        unauthorized(res)
        return
      }
      observe(path, res, observed).catch((error: unknown) => {
        logger.error(`${path} failed: ${describe(error)}`)
        if (!res.headersSent) reply(res, 500, { error: 'internal error' })
      })
      return
    }
    if (path === '/admin/upstreams/retry') {
      if (req.method !== 'POST') {
        refuse(res, 405, { error: 'method not allowed: use POST' }, { allow: 'POST' })
        return
      }
      // Headers only, as for /publish: the body (if any) is never read.
      if (!authorized(req.headers.authorization ?? '')) {
        unauthorized(res)
        return
      }
      if (observed.relay === undefined) {
        refuse(res, 404, { error: 'not a relay: there is no upstream to retry' })
        return
      }
      // The targets retried now (every failed one); the others are left to core's own backoff.
      refuse(res, 202, { retried: observed.relay.retryNow() })
      return
    }
    if (path !== '/publish') {
      refuse(res, 404, { error: 'not found: POST /publish publishes, POST /admin/upstreams/retry retries failed upstreams, GET /metrics and /healthz observe; the websocket is at /ws' })
      return
    }
    if (req.method !== 'POST') {
      refuse(res, 405, { error: 'method not allowed: use POST' }, { allow: 'POST' })
      return
    }
    // The token is checked from the headers alone: an unauthenticated body is never read.
    if (!authorized(req.headers.authorization ?? '')) {
      unauthorized(res)
      return
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MaxBodyBytes) {
      refuse(res, 413, { error: `body larger than ${MaxBodyBytes} bytes` })
      return
    }
    void (async () => {
      const text = await readBody(req)
      if (text === undefined) {
        refuse(res, 413, { error: `body larger than ${MaxBodyBytes} bytes` })
        return
      }
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch (error) {
        // Never the engine's text when it quotes the body: the 400 names what is wrong, not what was sent.
        reply(res, 400, { error: `body is not JSON: ${jsonFailure(error)}` })
        return
      }
      if (typeof body !== 'object' || body === null) {
        reply(res, 400, { error: BodyShape })
        return
      }
      const batch = Array.isArray(body)
      const requests = (batch ? body : [body]) as unknown[]
      if (batch && requests.length === 0) {
        reply(res, 400, { error: 'a batch must hold at least one {"channel": …, "event": …}' })
        return
      }
      const shapeless = requests.findIndex((request) => typeof request !== 'object' || request === null || Array.isArray(request))
      if (shapeless >= 0) {
        reply(res, 400, { error: `[${shapeless}] ${BodyShape}` })
        return
      }
      try {
        const outcomes = await server.publishMany(requests as PublishRequest[])
        if (batch) reply(res, 200, { eids: outcomes.map((o) => o.eid), repeat: outcomes.map((o) => o.repeat) })
        else reply(res, 200, outcomes[0])
      } catch (error) {
        if (error instanceof PublishError) {
          reply(res, 400, { error: batch ? `[${error.index}] ${error.message}` : error.message })
          return
        }
        logger.error(`publish failed: ${describe(error)}`)
        if (error instanceof StoreOutcomeUnknown) {
          // The eids, generated ones included, so that the retry is recognized as one.
          reply(res, 503, { error: 'the store failed and cannot tell whether the events were stored; retry with these eids (a repeat is recognized)', eids: error.eids })
          return
        }
        reply(res, 500, { error: 'the store failed; nothing was stored; try again' })
      }
    })().catch((error: unknown) => {
      logger.error(`publish request failed: ${describe(error)}`)
      if (!res.headersSent) reply(res, 500, { error: 'internal error' })
    })
  }
}
