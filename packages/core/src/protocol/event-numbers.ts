// The original server's event numbers (`m.e`), one constant each: the one definition of each.
// `EventName` (events.ts) is made of them. The ctx check's chunk reads the few it needs by name
// (`EventNumber.BotVote`, a namespace import), so that the bundler inlines them: importing
// `EventName` there put the whole table in a chunk shared with the code every app downloads up
// front (measured: 262 B gzip of it). A lookup by a computed key (`EventNumber[k]`) would bring
// the namespace object back.

/** `m.e` 0: bot vote. */
export const BotVote = 0
/** `m.e` 1: bot add. */
export const BotAdd = 1
/** `m.e` 2: bot edit. */
export const BotEdit = 2
/** `m.e` 3: bot delete. */
export const BotDelete = 3
/** `m.e` 4: bot claim. */
export const BotClaim = 4
/** `m.e` 5: bot approve. */
export const BotApprove = 5
/** `m.e` 6: bot deny. */
export const BotDeny = 6
/** `m.e` 7: bot ban. */
export const BotBan = 7
/** `m.e` 8: bot unban. */
export const BotUnban = 8
/** `m.e` 9: bot requeue. */
export const BotRequeue = 9
/** `m.e` 10: bot certify. */
export const BotCertify = 10
/** `m.e` 11: bot uncertify. */
export const BotUncertify = 11
/** `m.e` 12: bot transfer. */
export const BotTransfer = 12
/** `m.e` 13: bot hide. */
export const BotHide = 13
/** `m.e` 14: bot archive. */
export const BotArchive = 14
/** `m.e` 15: bot unverify. */
export const BotUnverify = 15
/** `m.e` 16: bot view. */
export const BotView = 16
/** `m.e` 17: bot invite. */
export const BotInvite = 17
/** `m.e` 18: bot unclaim. */
export const BotUnclaim = 18
/** `m.e` 19: root state update. */
export const RootStateUpdate = 19
/** `m.e` 20: vote reset. */
export const VoteReset = 20
/** `m.e` 21: vote reset all. */
export const VoteResetAll = 21
/** `m.e` 22: bot lock. */
export const BotLock = 22
/** `m.e` 23: bot unlock. */
export const BotUnlock = 23
/** `m.e` 30: review vote. */
export const ReviewVote = 30
/** `m.e` 31: review add. */
export const ReviewAdd = 31
/** `m.e` 32: review edit. */
export const ReviewEdit = 32
/** `m.e` 33: review delete. */
export const ReviewDelete = 33
/** `m.e` 40: resource add. */
export const ResourceAdd = 40
/** `m.e` 41: resource delete. */
export const ResourceDelete = 41
/** `m.e` 50: command add. */
export const CommandAdd = 50
/** `m.e` 51: command delete. */
export const CommandDelete = 51
/** `m.e` 70: server view. */
export const ServerView = 70
/** `m.e` 71: server vote. */
export const ServerVote = 71
/** `m.e` 72: server invite. */
export const ServerInvite = 72
/** `m.e` 80: staff lock. */
export const StaffLock = 80
/** `m.e` 81: staff unlock. */
export const StaffUnlock = 81
