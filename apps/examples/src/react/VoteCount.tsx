import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { useMemo } from 'react'
import { distinctUntilChanged, map } from 'rxjs'
import { useObservable } from './use-observable.js'

/** Shows a bot's vote count, live. Create the client once, e.g. `connect({ url, id, token })`. */
export function VoteCount({ client }: { readonly client: FatesClient }) {
  const votes$ = useMemo(() => client.event$.pipe(ofEvent(EventName.BotVote), map((vote) => vote.ctx.votes)), [client])
  // `failed` (a wrong token, a bad id) is for good: say why, or it looks like a bot nobody votes for.
  const failure$ = useMemo(
    () => client.status$.pipe(map((s) => (s.state === 'failed' ? (s.detail ?? 'failed') : undefined)), distinctUntilChanged()),
    [client],
  )
  const votes = useObservable<number | undefined>(votes$, undefined)
  const failure = useObservable<string | undefined>(failure$, undefined)
  if (failure !== undefined) return <p className="votes">Not connected: {failure}</p>
  return <p className="votes">{votes === undefined ? 'No votes yet' : `${votes} votes`}</p>
}
