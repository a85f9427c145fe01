import {
  BotVote,
  BotAdd,
  BotEdit,
  BotDelete,
  BotClaim,
  BotApprove,
  BotDeny,
  BotBan,
  BotUnban,
  BotRequeue,
  BotCertify,
  BotUncertify,
  BotTransfer,
  BotHide,
  BotArchive,
  BotUnverify,
  BotView,
  BotInvite,
  BotUnclaim,
  RootStateUpdate,
  VoteReset,
  VoteResetAll,
  BotLock,
  BotUnlock,
  ReviewVote,
  ReviewAdd,
  ReviewEdit,
  ReviewDelete,
  ResourceAdd,
  ResourceDelete,
  CommandAdd,
  CommandDelete,
  ServerView,
  ServerVote,
  ServerInvite,
  StaffLock,
  StaffUnlock,
} from './event-numbers.js'

/**
 * Event names (`m.e`) as the original server numbered them.
 *
 * The table is data so that tests, docs and the dashboard iterate it instead of repeating it.
 * Numbers outside it still reach users: {@link eventLabel} names them `unknown event N`.
 */
export const EventName = /* @__PURE__ */ Object.freeze({
  BotVote,
  BotAdd,
  BotEdit,
  BotDelete,
  BotClaim,
  BotApprove,
  BotDeny,
  BotBan,
  BotUnban,
  BotRequeue,
  BotCertify,
  BotUncertify,
  BotTransfer,
  BotHide,
  BotArchive,
  BotUnverify,
  BotView,
  BotInvite,
  BotUnclaim,
  RootStateUpdate,
  VoteReset,
  VoteResetAll,
  BotLock,
  BotUnlock,
  ReviewVote,
  ReviewAdd,
  ReviewEdit,
  ReviewDelete,
  ResourceAdd,
  ResourceDelete,
  CommandAdd,
  CommandDelete,
  ServerView,
  ServerVote,
  ServerInvite,
  StaffLock,
  StaffUnlock,
} as const satisfies Record<string, number>)

/** The key of a known event name, e.g. `'BotVote'`. */
export type EventNameKey = keyof typeof EventName
/** A known event number, e.g. `0` for a bot vote. */
export type KnownEventNumber = (typeof EventName)[EventNameKey]

/** Human-readable labels, in the words PROTOCOL.md uses. */
export const EventLabel: Readonly<Record<KnownEventNumber, string>> = /* @__PURE__ */ Object.freeze({
  0: 'bot vote',
  1: 'bot add',
  2: 'bot edit',
  3: 'bot delete',
  4: 'bot claim',
  5: 'bot approve',
  6: 'bot deny',
  7: 'bot ban',
  8: 'bot unban',
  9: 'bot requeue',
  10: 'bot certify',
  11: 'bot uncertify',
  12: 'bot transfer',
  13: 'bot hide',
  14: 'bot archive',
  15: 'bot unverify',
  16: 'bot view',
  17: 'bot invite',
  18: 'bot unclaim',
  19: 'root state update',
  20: 'vote reset',
  21: 'vote reset all',
  22: 'bot lock',
  23: 'bot unlock',
  30: 'review vote',
  31: 'review add',
  32: 'review edit',
  33: 'review delete',
  40: 'resource add',
  41: 'resource delete',
  50: 'command add',
  51: 'command delete',
  70: 'server view',
  71: 'server vote',
  72: 'server invite',
  80: 'staff lock',
  81: 'staff unlock',
})

// Built on first use, not at load: a module whose evaluation does work is kept in every bundle
// that imports the package's main entry, used or not (esbuild kept this one, 566 B minified,
// in every app's up-front code).
let byNumber: ReadonlyMap<number, EventNameKey> | undefined
const names = (): ReadonlyMap<number, EventNameKey> =>
  (byNumber ??= new Map((Object.keys(EventName) as EventNameKey[]).map((key) => [EventName[key], key])))

/** True when `e` is one of the 37 event numbers the original server defined. */
export function isKnownEvent(e: number): e is KnownEventNumber {
  return names().has(e)
}

/**
 * The key of an event number (`'BotVote'` for `0`), or `undefined` for a number the table does
 * not know — such events are still delivered, never dropped.
 */
export function eventNameOf(e: number): EventNameKey | undefined {
  return names().get(e)
}

/**
 * A label for any event number: `'bot vote'` for `0`, `'unknown event 99'` for a number the
 * table does not know.
 *
 * @example
 * eventLabel(EventName.BotInvite) // 'bot invite'
 */
export function eventLabel(e: number): string {
  return isKnownEvent(e) ? EventLabel[e] : `unknown event ${e}`
}
