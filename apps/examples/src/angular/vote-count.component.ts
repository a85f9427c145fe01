import { AsyncPipe } from '@angular/common'
import { ChangeDetectionStrategy, Component, inject, InjectionToken } from '@angular/core'
import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { map } from 'rxjs'

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
    @let votes = votes$ | async;
    @if (votes !== null) {
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
}
