/**
 * Runs inputs one at a time, in order: `dispatch` runs an input at once unless one is running,
 * in which case it waits its turn; `later` queues one behind the rest. The loop of both
 * interpreters (connect.ts's and tabs.ts's): a step's effects all run before the next input, so
 * input that user code gives while they run (close() inside a subscriber's next()) never sees
 * a state half-changed.
 */
export function serially<I>(run: (input: I) => void): { readonly dispatch: (input: I) => void; readonly later: (input: I) => void } {
  const queue: I[] = []
  let running = false
  return {
    dispatch(input) {
      queue.push(input)
      if (running) return
      running = true
      try {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) run(next)
      } finally {
        running = false
      }
    },
    later: (input) => void queue.push(input),
  }
}
