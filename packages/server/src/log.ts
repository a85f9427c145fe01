/** Where the server writes its one-line log entries. Lines never contain a token. */
export interface Logger {
  /** Routine events: listening, connections opening, identifying and closing. */
  info(line: string): void
  /** Failures the server recovered from (a store error, a rejected publish). */
  error(line: string): void
}

/** A logger that drops everything, the library's default. */
export const silentLogger: Logger = Object.freeze({ info() {}, error() {} })

/** A logger writing to standard error, one line per entry, as the CLI does. */
export const stderrLogger: Logger = Object.freeze({
  info(line: string) {
    process.stderr.write(`${new Date().toISOString()} ${line}\n`)
  },
  error(line: string) {
    process.stderr.write(`${new Date().toISOString()} error: ${line}\n`)
  },
})

/** An error as one log line, without its stack (a stack would spread one event over many lines). */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
