/**
 * `@fates-rx/core/testing`: helpers to test code built on `@fates-rx/core` in virtual time,
 * with any test runner. Build frames from the protocol tables (`joinFrames`, `wrapEvent`,
 * `fatesEvent`, `readyPayload`, …), play a scripted server through `connect({ WebSocket })`
 * (`scriptedWebSockets`, `acceptIdentify`, `rejectIdentify`), drive a socket by hand
 * (`fakeWebSockets`), or skip the socket entirely and feed marbles to `fakeClient`.
 *
 * @example
 * import { TestScheduler } from 'rxjs/testing'
 * import { connect, EventName } from '@fates-rx/core'
 * import { acceptIdentify, fatesEvent, joinFrames, scriptedWebSockets, wrapEvent } from '@fates-rx/core/testing'
 *
 * const vote = fatesEvent(EventName.BotVote, { user: '1', votes: 57 })
 * new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
 *   const server = scriptedWebSockets([acceptIdentify(cold('--a', { a: joinFrames(wrapEvent(vote)) }))])
 *   const client = connect({ url: 'ws://test/ws', id: '1', token: 't', WebSocket: server.WebSocket })
 *   expectObservable(client.event$.pipe(map((e) => e.ctx['votes']))).toBe('--a', { a: 57 })
 * })
 *
 * @packageDocumentation
 */
export * from './testing/index.js'
