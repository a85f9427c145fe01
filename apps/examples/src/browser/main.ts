// A plain page: a form for the bot's ID and token, the connection's state and the events as
// they arrive. No framework; the DOM is written with textContent only, because event contents
// (review text, names) come from end users.
import { connect, eventLabel, type FatesClient, type WebSocketConstructor } from '@fates-rx/core'

/** Options of {@link mount}. */
export interface MountOptions {
  /** The WebSocket constructor (tests pass a scripted one). @default the browser's */
  readonly WebSocket?: WebSocketConstructor
}

/** The newest events kept on the page: a busy bot would otherwise grow the list without bound. */
const maxEvents = 50

const template = `
  <form>
    <label>Socket URL <input name="url" value="wss://api.fateslist.xyz/api/dragon/ws/" required /></label>
    <label>Bot ID <input name="id" inputmode="numeric" required /></label>
    <label>API token <input name="token" type="password" autocomplete="off" required /></label>
    <button>Connect</button>
  </form>
  <p class="status">Not connected</p>
  <ol class="events"></ol>`

/** Renders the page into `root`; returns a function that closes the connection and clears it. */
export function mount(root: HTMLElement, options: MountOptions = {}): () => void {
  root.innerHTML = template
  const form = root.querySelector('form') as HTMLFormElement
  const status = root.querySelector('.status') as HTMLElement
  const events = root.querySelector('.events') as HTMLElement
  let stop = (): void => undefined

  form.addEventListener('submit', (submit) => {
    submit.preventDefault()
    stop()
    events.replaceChildren() // a new connection (maybe another bot): start a new list
    const field = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim()
    let client: FatesClient
    try {
      client = connect({
        url: field('url'),
        id: field('id'),
        token: field('token'),
        ...(options.WebSocket === undefined ? {} : { WebSocket: options.WebSocket }),
      })
    } catch (error) {
      // connect() names the bad option and never echoes the token.
      status.textContent = (error as Error).message
      return
    }
    // The token stays in the client's memory only, not in the page.
    ;(form.elements.namedItem('token') as HTMLInputElement).value = ''
    const subscriptions = [
      client.status$.subscribe((s) => {
        status.textContent = s.detail === undefined ? s.state : `${s.state}: ${s.detail}`
      }),
      client.event$.subscribe((event) => {
        const item = document.createElement('li')
        item.textContent = `${eventLabel(event.m.e)} by ${String(event.ctx['user'] ?? 'the system')}`
        events.prepend(item)
        if (events.childElementCount > maxEvents) events.lastElementChild?.remove()
      }),
    ]
    stop = () => subscriptions.forEach((s) => s.unsubscribe())
  })

  return () => {
    stop()
    root.replaceChildren()
  }
}

const page = document.querySelector<HTMLElement>('#fates-app')
if (page !== null) mount(page)
