import { AsyncPipe } from '@angular/common'
import { ChangeDetectionStrategy, Component, inject, InjectionToken } from '@angular/core'
import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { distinctUntilChanged, map } from 'rxjs'

/**
 * The client, provided once for the app: `{ provide: FATES_CLIENT, useValue: connect({ url, id, token }) }`.
 * The connection opens when the first template subscribes and closes when the last leaves.
 */
export const FATES_CLIENT = new InjectionToken<FatesClient>('FatesClient')

/** Shows a bot's vote count, live; the `async` pipe subscribes and unsubscribes with the view. */
@Component({
  selector: 'vote-count',
  imports: [AsyncPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @let failure = failure$ | async;
    @let votes = votes$ | async;
    @if (failure !== null) {
      <p class="votes">Not connected: {{ failure }}</p>
    } @else if (votes !== null) {
      <p class="votes">{{ votes }} votes</p>
    } @else {
      <p class="votes">No votes yet</p>
    }
  `,
})
export class VoteCountComponent {
  readonly votes$ = inject(FATES_CLIENT).event$.pipe(
    ofEvent(EventName.BotVote),
    map((vote) => vote.ctx.votes),
  )
  // `failed` (a wrong token, a bad id) is for good: say why, or it looks like a bot nobody votes for.
  readonly failure$ = inject(FATES_CLIENT).status$.pipe(
    map((s) => (s.state === 'failed' ? (s.detail ?? 'failed') : null)),
    distinctUntilChanged(),
  )
}
