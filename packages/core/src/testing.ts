/**
 * `@fates-rx/core/testing`: helpers to test code built on `@fates-rx/core` in virtual time,
 * with any test runner. Build frames from the protocol tables (`joinFrames`, `wrapEvent`,
 * `fatesEvent`, `readyPayload`, …), play a scripted server through `connect({ WebSocket })`
 * (`scriptedWebSockets`, `acceptIdentify`, `rejectIdentify`), drive a socket by hand
 * (`fakeWebSockets`), or skip the socket entirely and feed marbles to `fakeClient`. Test handlers
 * against every `ctx` shape the original's producers sent with `producerContextSamples()`.
 *
 * @example
 * import { map } from 'rxjs'
 * import { TestScheduler } from 'rxjs/testing'
 * import { connect, EventName } from '@fates-rx/core'
 * import { acceptIdentify, fatesEvent, joinFrames, scriptedWebSockets, wrapEvent } from '@fates-rx/core/testing'
 *
 * const vote = fatesEvent(EventName.BotVote, { user: '1', votes: 57 })
 * new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
 *   const server = scriptedWebSockets([acceptIdentify(cold('--a', { a: joinFrames(wrapEvent(vote)) }))])
 *   const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '42', token: 'secret', WebSocket: server.WebSocket })
 *   // Unsubscribe at 9 ms (which closes the socket), or the connection stays open forever.
 *   expectObservable(client.event$.pipe(map((e) => e.ctx['votes'])), '^ 9ms !').toBe('--a', { a: 57 })
 * })
 *
 * @packageDocumentation
 */
export * from './testing/index.js'
