import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { filter, map, type Observable, scan } from 'rxjs'

/**
 * Application code to test: the last `limit` distinct users who voted, newest first. Test votes
 * (sent from the bot's settings page) are left out.
 */
export function recentVoters(client: Pick<FatesClient, 'event$'>, limit = 3): Observable<readonly string[]> {
  return client.event$.pipe(
    ofEvent(EventName.BotVote),
    filter((vote) => vote.ctx.test !== true && vote.ctx.user !== null),
    map((vote) => String(vote.ctx.user)),
    scan((voters: readonly string[], user) => [user, ...voters.filter((v) => v !== user)].slice(0, limit), []),
  )
}
