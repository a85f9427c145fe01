import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { useMemo } from 'react'
import { map } from 'rxjs'
import { useObservable } from './use-observable.js'

/** Shows a bot's vote count, live. Create the client once, e.g. `connect({ url, id, token })`. */
export function VoteCount({ client }: { readonly client: FatesClient }) {
  const votes$ = useMemo(() => client.event$.pipe(ofEvent(EventName.BotVote), map((vote) => vote.ctx.votes)), [client])
  const votes = useObservable<number | undefined>(votes$, undefined)
  return <p className="votes">{votes === undefined ? 'No votes yet' : `${votes} votes`}</p>
}
