/**
 * Child processes for the sections that need a second core: start a compiled script with IPC
 * and wait for its first message.
 *
 * @packageDocumentation
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** A started child and its first message. */
export interface Started<T> {
  readonly child: ChildProcess
  readonly hello: T
}

/** Forks `script` (a file beside this one in dist/) and resolves with its first IPC message. */
export async function start<T>(script: string, args: readonly string[] = [], execArgv: readonly string[] = []): Promise<Started<T>> {
  // BENCH_CPU_PROF=<dir> profiles every child too (`node --cpu-prof`), for finding what costs.
  const profile = process.env['BENCH_CPU_PROF']
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), [...args], {
    execArgv: [...execArgv, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`${script} exited with ${String(code)} before it was ready`)
  })
  const [hello] = (await Promise.race([once(child, 'message'), exited])) as [T]
  return { child, hello }
}

/** The next IPC message from a child that satisfies `accept`. */
export function nextMessage<T>(child: ChildProcess, accept: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T): void => {
      if (!accept(m)) return
      child.off('message', onMessage)
      child.off('exit', onExit)
      resolve(m)
    }
    const onExit = (code: number | null): void => {
      child.off('message', onMessage)
      reject(new Error(`child exited with ${String(code)}`))
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/** Ends a child: disconnects IPC (children exit on that) and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  if (child.connected) child.disconnect()
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** The monotonic clock in microseconds; every process on this machine reads the same one. */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/** Rejects when `promise` has not settled within `ms`: a stuck run fails the bench instead of hanging it. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
