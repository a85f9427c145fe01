// Frame helpers for the client's own tests, and the public test kit's socket doubles and virtual
// clock under the short names those tests use (one file of doubles: the kit's, so that every
// client test exercises it). Not part of the build.
import { controlPayload, fatesEvent, identityPayload, joinFrames, wrapEvent } from '../testing/index.js'

export { FakeWebSocket as FakeSocket, fakeWebSockets, VirtualClock as Clock } from '../testing/index.js'

export const identityFrame = joinFrames(identityPayload({ detail: 'Send Bot ID…', ts: 1 }))
export const control = (code: string, remaining: number, detail = '') =>
  joinFrames(controlPayload(code, { detail, requestsRemaining: remaining, ts: 1 }))
export const eventFrame = (eid: string, ts = 1, extra: object = {}) =>
  JSON.stringify({ ...wrapEvent(fatesEvent(0 as number, { user: '1', votes: 1 }, { eid, ts }), 'bot-1'), ...extra })
