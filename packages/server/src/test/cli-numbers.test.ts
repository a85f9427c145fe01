// The CLI's numeric flags: a value the option cannot take is refused, never silently rounded
// into another one (a port, a count, or 0 = "never" for a timeout).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** Runs the CLI until it exits or prints its URL; what it did, and its stderr. */
function run(args: readonly string[]): Promise<{ started: boolean; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [cli, '--bot', '42:cli-token', ...args], { stdio: 'pipe' })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  return new Promise((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString('utf8').startsWith('listening ')) return
      child.kill('SIGKILL')
      resolve({ started: true, code: null, stderr })
    })
    child.on('exit', (code) => resolve({ started: false, code, stderr }))
  })
}

it.each([
  [['--port', '0.5'], /--port/],
  [['--port', '0', '--history', '2.5'], /--history/],
  [['--port', '0', '--rate-limit', '19.6'], /--rate-limit/],
  // 0.4 ms rounds to 0, which means "never time out": the opposite of what was asked.
  [['--port', '0', '--identify-timeout', '0.0004'], /--identify-timeout/],
] as const)('refuses %j instead of rounding it', async (args, flag) => {
  const { started, code, stderr } = await run(args)
  expect(started).toBe(false)
  expect(code).toBe(2)
  expect(stderr).toMatch(flag)
})
