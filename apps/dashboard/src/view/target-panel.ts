import { type Observable, Subscription, throttleTime } from 'rxjs'
import type { Tally } from '../streams/kept.js'
import type { DashboardClient } from '../streams/client.js'
import type { ControlRow, DiagnosticsView, FeedRow } from '../streams/feed.js'
import { idleStatus, type StatusView } from '../streams/status.js'
import { type TargetViewConfig, targetView } from '../streams/target.js'
import { type TileView, tilesOf, zeroTiles } from '../streams/tiles.js'
import { RateChart } from './chart.js'
import { h, renderSliding, setText } from './dom.js'
import { renderOnFrame } from './frame.js'
import { settingsError, type TargetSettings } from '../streams/settings.js'
import { dropKept, loadKept, saveKept } from './kept-store.js'
import { dropFromSession, forget, keepInSession, type RememberedTarget, remember, sameTarget } from './remember.js'

/**
 * The tiles, the feed and the logs redraw at most this often (and once per frame): a person
 * reads ten updates a second at best, and each redraw costs layout and paint.
 */
const listIntervalMs = 100

/** A connected client the panel can close. */
export interface ClientHandle extends DashboardClient {
  /** Closes the socket for good (no reconnect). */
  close(): void
}

/** Opens a client for the settings; throws a readable error for a bad option. */
export type OpenClient = (settings: TargetSettings) => ClientHandle

/** What a new panel starts with. */
export interface PanelOptions {
  readonly settings?: Partial<TargetSettings> & { readonly remember?: boolean }
  /** Connect as soon as the panel is on the page. */
  readonly autoConnect?: boolean
  /** Called when the user removes the panel. */
  readonly onRemove?: (panel: TargetPanel) => void
  readonly view?: TargetViewConfig
}

let panels = 0

/**
 * The panels of this page that are connected now. A target another of them still shows stays
 * in this tab's session and keeps its numbers when one of its panels is disconnected or removed.
 */
const connectedPanels = new Set<TargetPanel>()

/**
 * One watched target: its connect panel, status, tiles, chart, feed, control log and
 * diagnostics. Everything drawn comes from {@link targetView}; the panel only renders it, at
 * most once per animation frame per part.
 */
export class TargetPanel {
  /** The panel's root element. */
  readonly element: HTMLElement
  private readonly n = (panels += 1)
  private readonly form: HTMLFormElement
  private readonly fields: HTMLFieldSetElement
  private readonly url: HTMLInputElement
  private readonly kind: HTMLSelectElement
  private readonly id: HTMLInputElement
  private readonly token: HTMLInputElement
  private readonly sendAll: HTMLInputElement
  private readonly sendNone: HTMLInputElement
  private readonly rememberBox: HTMLInputElement
  private readonly submit: HTMLButtonElement
  private readonly formError: HTMLElement
  private readonly summary: HTMLElement
  private readonly title: HTMLElement
  private readonly status: HTMLElement
  private readonly statusAnnouncer: HTMLElement
  private readonly feedAnnouncer: HTMLElement
  private readonly tiles = new Map<string, { value: HTMLElement; sub: HTMLElement }>()
  private readonly chart: RateChart
  private readonly feed: HTMLOListElement
  private readonly controlLog: HTMLOListElement
  private readonly diagnostics: HTMLElement
  private readonly diagnosticsCount: HTMLElement
  private readonly diagnosticsList: HTMLOListElement
  private handle: ClientHandle | undefined
  private live = new Subscription()
  private active = false
  private connected: TargetSettings | undefined

  constructor(
    private readonly open: OpenClient,
    private readonly options: PanelOptions = {},
  ) {
    const id = (name: string): string => `t${this.n}-${name}`
    const field = (name: string, label: string, control: HTMLElement): HTMLElement =>
      h('div', { className: `field field-${name}` }, h('label', { attrs: { for: id(name) }, text: label }), control)
    const check = (label: string, box: HTMLInputElement): HTMLElement =>
      h('label', { className: 'check' }, box, h('span', { text: label }))

    this.url = h('input', {
      testid: 'connect-url',
      attrs: { id: id('url'), type: 'url', required: '', spellcheck: 'false', placeholder: 'wss://api.fateslist.xyz/api/dragon/ws/' },
    })
    this.kind = h(
      'select',
      { testid: 'connect-kind', attrs: { id: id('kind') } },
      h('option', { attrs: { value: 'bot' }, text: 'Bot' }),
      h('option', { attrs: { value: 'server' }, text: 'Server' }),
    )
    this.id = h('input', {
      testid: 'connect-id',
      attrs: { id: id('id'), required: '', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', placeholder: '811073947382579200' },
    })
    this.token = h('input', {
      testid: 'connect-token',
      attrs: { id: id('token'), type: 'password', required: '', autocomplete: 'off', spellcheck: 'false' },
    })
    this.sendAll = h('input', { testid: 'connect-send-all', attrs: { type: 'checkbox' } })
    this.sendNone = h('input', { testid: 'connect-send-none', attrs: { type: 'checkbox' } })
    this.rememberBox = h('input', { testid: 'connect-remember', attrs: { type: 'checkbox' } })
    this.submit = h('button', { testid: 'connect-submit', className: 'primary', attrs: { type: 'submit' }, text: 'Connect' })
    const removeButton = h('button', { className: 'quiet', attrs: { type: 'button' }, text: 'Remove' })
    this.summary = h('span', { className: 'connect-summary', testid: 'connect-summary' })
    this.formError = h('p', { className: 'form-error', testid: 'connect-error', attrs: { role: 'alert' } })

    this.fields = h(
      'fieldset',
      { className: 'fields' },
      h('legend', { className: 'sr-only', text: 'Target' }),
      field('url', 'Server URL', this.url),
      field('kind', 'Kind', this.kind),
      field('id', 'ID', this.id),
      field('token', 'Token', this.token),
      h(
        'div',
        { className: 'checks' },
        check('Replay prior events (send_all)', this.sendAll),
        check('No live events after (send_none)', this.sendNone),
        check('Remember on this device', this.rememberBox),
      ),
    )
    this.form = h(
      'form',
      { className: 'connect', testid: 'connect-form', attrs: { novalidate: '' } },
      this.fields,
      h('div', { className: 'actions' }, this.submit, removeButton, this.summary),
      this.formError,
    )

    this.title = h('h2', { className: 'target-title', text: `Target ${this.n}` })
    // The status line is not a live region: its countdown ticks every second and its replay
    // progress many times a second. A screen reader hears the announcer instead, whose words
    // change only with the state.
    this.status = h('div', { className: 'status', testid: 'status' })
    this.statusAnnouncer = h('div', { className: 'sr-only', testid: 'status-announcer', attrs: { role: 'status' } })
    // The feed's own list changes up to ten times a second; this says what arrived, in one
    // sentence per ten seconds at most (see feedAnnouncements).
    this.feedAnnouncer = h('div', {
      className: 'sr-only',
      testid: 'feed-announcer',
      attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' },
    })

    const tileRow = h('div', { className: 'tiles' })
    for (const tile of zeroTiles) {
      const value = h('span', { className: 'tile-value', text: tile.value })
      const sub = h('span', { className: 'tile-sub', text: tile.sub })
      tileRow.append(
        h('div', { className: `tile tile-${tile.id}`, testid: `stat-${tile.id}` }, h('span', { className: 'tile-label', text: tile.label }), value, sub),
      )
      this.tiles.set(tile.id, { value, sub })
    }

    const chartHost = h('div', { className: 'chart-host', testid: 'chart' })
    // The lists scroll: tabindex lets a keyboard reach and scroll them.
    this.feed = h('ol', { className: 'feed', testid: 'feed', attrs: { 'aria-label': 'Newest events', tabindex: '0' } })
    this.controlLog = h('ol', {
      className: 'log',
      testid: 'control-log',
      attrs: { 'aria-label': 'Control payloads', tabindex: '0' },
    })
    this.diagnosticsCount = h('span', { className: 'count', text: '0' })
    this.diagnosticsList = h('ol', { className: 'log', attrs: { 'aria-label': 'Newest decode failures', tabindex: '0' } })
    this.diagnostics = h(
      'section',
      { className: 'panel diagnostics', testid: 'diagnostics' },
      h('h3', {}, 'Diagnostics ', this.diagnosticsCount),
      this.diagnosticsList,
    )

    this.element = h(
      'section',
      { className: 'target', testid: 'target', attrs: { 'aria-labelledby': id('title') } },
      h('header', { className: 'target-head' }, this.title),
      this.form,
      this.status,
      this.statusAnnouncer,
      tileRow,
      h(
        'figure',
        { className: 'panel chart' },
        h('figcaption', { text: `Events per minute by type (last ${Math.round((options.view?.chartSpanMs ?? 300_000) / 60_000)} min)` }),
        chartHost,
      ),
      h(
        'div',
        { className: 'panels' },
        h('section', { className: 'panel feed-panel' }, h('h3', { text: 'Live feed' }), this.feed, this.feedAnnouncer),
        h('section', { className: 'panel' }, h('h3', { text: 'Control log' }), this.controlLog),
        this.diagnostics,
      ),
    )
    this.title.id = id('title')
    this.chart = new RateChart(chartHost)

    const initial = options.settings ?? {}
    this.url.value = initial.url ?? ''
    this.kind.value = initial.kind ?? 'bot'
    this.id.value = initial.id ?? ''
    // The token is set as a property, never an attribute: it stays out of the serialised DOM.
    this.token.value = initial.token ?? ''
    this.sendAll.checked = initial.sendAll ?? false
    this.sendNone.checked = initial.sendNone ?? false
    this.rememberBox.checked = initial.remember ?? false
    this.renderStatus(idleStatus)

    this.form.addEventListener('submit', (event) => {
      event.preventDefault()
      if (this.active) this.disconnect()
      else this.connect()
    })
    removeButton.addEventListener('click', () => {
      this.destroy()
      options.onRemove?.(this)
    })
  }

  /** Connects if the panel was asked to; call once the element is on the page. */
  start(): void {
    if (this.options.autoConnect === true) this.connect()
  }

  /** The server URL in the form. */
  serverUrl(): string {
    return this.url.value.trim()
  }

  /** Focuses the first empty field. */
  focus(): void {
    const empty = [this.url, this.id, this.token].find((input) => input.value === '')
    ;(empty ?? this.submit).focus()
  }

  private settings(): TargetSettings {
    return {
      url: this.url.value.trim(),
      kind: this.kind.value === 'server' ? 'server' : 'bot',
      id: this.id.value.trim(),
      token: this.token.value,
      sendAll: this.sendAll.checked,
      sendNone: this.sendNone.checked,
      // Not a field of the form: only a prefill sets the server's window.
      ...(this.options.settings?.rateWindowMs === undefined ? {} : { rateWindowMs: this.options.settings.rateWindowMs }),
    }
  }

  /** Opens a client for the form's values and renders it. */
  connect(): void {
    const settings = this.settings()
    const problem = settingsError(settings)
    if (problem !== undefined) {
      setText(this.formError, problem)
      return
    }
    this.stop()
    setText(this.formError, '')
    let handle: ClientHandle
    try {
      handle = this.open(settings)
    } catch (error) {
      setText(this.formError, error instanceof Error ? error.message : 'The client could not start.')
      return
    }
    if (this.rememberBox.checked) remember(settings)
    else forget(settings)
    // This tab's next load reconnects it without asking (the token only in sessionStorage).
    keepInSession(settings)
    this.handle = handle
    this.connected = settings
    connectedPanels.add(this)
    this.setActive(true)
    setText(this.title, `${settings.kind === 'bot' ? 'Bot' : 'Server'} ${settings.id}`)
    // The lists slide by row keys that each connection numbers afresh: a row the last target
    // (or the last connection) left must not pass for one of this one's.
    for (const list of [this.feed, this.controlLog, this.diagnosticsList]) list.replaceChildren()
    // The numbers this target showed before (a reload, another tab, an earlier visit): the
    // tiles, chart and feed start from them, and the resumed gap adds only what they lack.
    const kept = loadKept(settings, Date.now())
    const view = targetView(handle, {
      ...this.options.view,
      kept: kept.tally,
      ...(kept.problem === undefined ? {} : { keptProblem: kept.problem }),
    })
    const live = new Subscription()
    live.add(this.keep(settings, view.tally$))
    live.add(
      renderOnFrame(view.status$, (status) => {
        this.renderStatus(status)
        // A client that gave up leaves the form editable, to fix the token and try again; a
        // reload does not try it again by itself.
        this.setActive(status.state !== 'failed' && status.state !== 'closed')
        if (status.state === 'failed') dropFromSession(settings)
      }),
    )
    // Worded after pacing: a snapshot per event, words ten times a second.
    live.add(renderOnFrame(view.stats$, (stats) => this.renderTiles(tilesOf(stats)), listIntervalMs))
    live.add(renderOnFrame(view.chart$, (chart) => this.chart.update(chart)))
    live.add(renderOnFrame(view.feed$, (rows) => renderSliding(this.feed, rows, feedRow), listIntervalMs))
    live.add(renderOnFrame(view.controlLog$, (rows) => renderSliding(this.controlLog, rows, controlRow), listIntervalMs))
    live.add(renderOnFrame(view.diagnostics$, (d) => this.renderDiagnostics(d), listIntervalMs))
    // Set even when the words repeat: a new text node is what makes a reader speak again.
    live.add(view.feedAnnouncement$.subscribe((text) => (this.feedAnnouncer.textContent = `${this.title.textContent}: ${text}`)))
    this.live = live
  }

  /**
   * Keeps the numbers in localStorage: a few times a second while they change, and at once when
   * the page is hidden or left (pagehide runs after every delivered event was counted, since the
   * tally folds per microtask), so that a reload starts exactly where this page stopped.
   */
  private keep(settings: TargetSettings, tally$: Observable<Tally>): Subscription {
    let latest: Tally | undefined
    let saved: Tally | undefined
    const save = (): void => {
      if (latest === undefined || latest === saved) return
      saved = latest
      saveKept(settings, latest)
    }
    const onHide = (): void => {
      if (document.visibilityState === 'hidden') save()
    }
    const keeping = new Subscription(() => {
      removeEventListener('pagehide', save)
      document.removeEventListener('visibilitychange', onHide)
      save()
    })
    keeping.add(tally$.subscribe((t) => (latest = t)))
    keeping.add(tally$.pipe(throttleTime(250, undefined, { leading: false, trailing: true })).subscribe(save))
    addEventListener('pagehide', save)
    document.addEventListener('visibilitychange', onHide)
    return keeping
  }

  /** Closes the client; the last numbers stay on screen. */
  disconnect(): void {
    const target = this.settings()
    if (!this.shownElsewhere(target)) dropFromSession(target)
    this.stop()
    this.renderStatus({ ...idleStatus, state: 'closed', headline: 'Disconnected', lines: ['Closed by you.'], spoken: 'Disconnected' })
  }

  /**
   * Leaves the page for a hot update: stops drawing, keeps the numbers and closes the handle
   * (which handover.ts has parked, so the socket stays), but stays in this tab's session, so
   * that the updated module connects it again.
   */
  detach(): void {
    this.stop()
    this.chart.destroy()
    this.element.remove()
  }

  /** Closes the client and frees the chart. */
  destroy(): void {
    const target = this.connected ?? this.settings()
    const elsewhere = this.shownElsewhere(target)
    if (!elsewhere) dropFromSession(target)
    this.stop()
    // Removed by the user: its numbers go too (a disconnect keeps them), unless another panel
    // of this page still shows them.
    if (!elsewhere) dropKept(target)
    this.chart.destroy()
    this.element.remove()
  }

  /** Whether another panel of this page is connected to the target. */
  private shownElsewhere(target: RememberedTarget): boolean {
    return [...connectedPanels].some((panel) => panel !== this && panel.connected !== undefined && sameTarget(panel.connected, target))
  }

  private stop(): void {
    connectedPanels.delete(this)
    this.live.unsubscribe()
    this.handle?.close()
    this.handle = undefined
    this.setActive(false)
  }

  private setActive(active: boolean): void {
    this.active = active
    // A browser drops the focus of a field it disables to the page: a keyboard user who pressed
    // Enter in one would lose their place. It goes to the button that now says Disconnect.
    if (active && this.fields.contains(document.activeElement)) this.submit.focus()
    this.fields.disabled = active
    // While connected the form folds into one line; the fields come back to fix and retry.
    this.form.dataset['active'] = String(active)
    if (active) {
      const s = this.settings()
      setText(this.summary, `${s.url} · ${s.kind} ${s.id}${s.sendAll ? ' · send_all' : ''}${s.sendNone ? ' · send_none' : ''}`)
    }
    setText(this.submit, active ? 'Disconnect' : 'Connect')
  }

  private renderStatus(status: StatusView): void {
    this.status.dataset['state'] = status.state
    this.status.dataset['tone'] = status.tone
    this.status.replaceChildren(
      h('span', { className: 'dot', attrs: { 'aria-hidden': 'true' } }),
      h('strong', { className: 'headline', text: status.headline }),
      ...(status.tabs === undefined
        ? []
        : [
            h('span', {
              className: 'line tabs',
              testid: 'tabs',
              text: status.tabs.words,
              attrs: { 'data-role': status.tabs.role, 'data-count': String(status.tabs.count) },
            }),
          ]),
      ...status.lines.map((line) => h('span', { className: 'line', text: line })),
    )
    // Unchanged words are not set again, so a reader hears each state once.
    setText(this.statusAnnouncer, `${this.title.textContent}: ${status.spoken}`)
  }

  private renderTiles(tiles: readonly TileView[]): void {
    for (const tile of tiles) {
      const slot = this.tiles.get(tile.id)
      if (slot === undefined) continue
      setText(slot.value, tile.value)
      setText(slot.sub, tile.sub)
    }
  }

  private renderDiagnostics(view: DiagnosticsView): void {
    setText(this.diagnosticsCount, String(view.count))
    this.diagnostics.dataset['count'] = String(view.count)
    renderSliding(this.diagnosticsList, view.last, (row) =>
      h(
        'li',
        {},
        h('strong', { text: row.kind }),
        h('span', { text: row.message }),
        ...(row.raw === '' ? [] : [h('code', { text: row.raw })]),
      ),
    )
  }
}

function feedRow(row: FeedRow): Element {
  return h(
    'li',
    { className: 'feed-row' },
    h('time', { text: row.time }),
    h('span', { className: 'feed-name', text: row.name }),
    h('span', { className: 'feed-user', text: row.user === '' ? '' : `user ${row.user}` }),
    h('span', { className: 'feed-fields', text: row.fields }),
    ...(row.prior ? [h('span', { className: 'badge', text: 'replayed' })] : []),
    // Missed while the page was away (a reload, a drop) and filled in after.
    ...(row.resumed ? [h('span', { className: 'badge resumed', testid: 'resumed', text: 'filled in' })] : []),
    ...(row.chan === 'global' ? [h('span', { className: 'badge', text: 'global' })] : []),
  )
}

function controlRow(row: ControlRow): Element {
  return h(
    'li',
    { className: 'log-row' },
    h('time', { text: row.time }),
    h('code', { text: row.code }),
    h('span', { className: 'log-detail', text: row.detail }),
    h('span', { className: 'log-remaining', text: row.remaining === '' ? '' : `${row.remaining} left` }),
  )
}

