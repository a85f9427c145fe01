// Test doubles for the client's own tests. The socket doubles and the virtual clock are the
// public test kit's (`@fates-rx/core/testing`), so the kit is exercised by every client test;
// the short frame helpers below keep those tests terse. Not part of the build.
import { controlPayload, fatesEvent, identityPayload, joinFrames, wrapEvent } from '../testing/index.js'

export { FakeWebSocket as FakeSocket, fakeWebSockets, VirtualClock as Clock } from '../testing/index.js'

export const identityFrame = joinFrames(identityPayload({ detail: 'Send Bot ID…', ts: 1 }))
export const control = (code: string, remaining: number, detail = '') =>
  joinFrames(controlPayload(code, { detail, requestsRemaining: remaining, ts: 1 }))
export const eventFrame = (eid: string, ts = 1, extra: object = {}) =>
  JSON.stringify({ ...wrapEvent(fatesEvent(0 as number, { user: '1', votes: 1 }, { eid, ts }), 'bot-1'), ...extra })
