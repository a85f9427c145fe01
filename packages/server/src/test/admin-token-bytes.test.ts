// An admin token must be one a request can carry: HTTP header values are bytes (Node reads
// them as Latin-1) with surrounding whitespace stripped, so a token with a trailing space or
// newline (a secret read from a CRLF file) or a character beyond U+00FF could never be
// presented, and every POST /publish would be answered 401. Such a token is refused at start
// (without echoing it), or it works.
import { connect } from 'node:net'
import { expect, it } from 'vitest'
import { startServer } from '../start.js'

/** POSTs an event with the header sent as UTF-8 bytes, as curl does; resolves to the status. */
function post(port: number, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const body = JSON.stringify({ channel: 'global', event: { m: { e: 19 }, ctx: {} } })
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(answer)?.[1])))
    socket.end(Buffer.from(`POST /publish HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer ${token}\r\ncontent-length: ${body.length}\r\n\r\n${body}`, 'utf8'))
  })
}

it.each(['secret-token ', 'secret-token\t', 'secret-token\r', 'secret-€-token'])(
  'an admin token %j either authorizes a request carrying it or is refused at start',
  async (token) => {
    let server
    try {
      server = await startServer({ port: 0, adminToken: token })
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError)
      expect(String(error)).not.toContain('secret')
      return
    }
    try {
      expect(await post(server.port, token)).toBe(200)
    } finally {
      await server.close()
    }
  },
)
