/** Properties {@link h} understands. Text goes through `textContent`, never through HTML. */
export interface Props {
  readonly className?: string
  readonly testid?: string
  readonly text?: string
  /** Plain attributes (`id`, `for`, `type`, `aria-*`, …). Never event handlers or `style`. */
  readonly attrs?: Readonly<Record<string, string>>
}

/**
 * Creates an element. There is deliberately no way to pass HTML: every string from the wire
 * (review text, names, details) ends up as a text node.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (props.className !== undefined) element.className = props.className
  if (props.testid !== undefined) element.dataset['testid'] = props.testid
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (/^on/i.test(name) || name === 'style') throw new Error(`h: attribute ${name} is not allowed`)
    element.setAttribute(name, value)
  }
  if (props.text !== undefined) element.textContent = props.text
  element.append(...children)
  return element
}

/** Sets an element's text only when it changed, so an unchanged tile costs no layout. */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text
}

/**
 * Draws a newest-first list that slides over an append-only sequence: rows whose key is not on
 * screen yet are a prefix, so only they are created, and only the overflow at the end is
 * removed. At a thousand events per second that is a few nodes per frame, not a whole list.
 */
export function renderSliding<T extends { readonly key: string }>(
  container: Element,
  rows: readonly T[],
  make: (row: T) => Element,
): void {
  const firstKey = (container.firstElementChild as HTMLElement | null)?.dataset['key']
  const fresh = firstKey === undefined ? rows.length : rows.findIndex((row) => row.key === firstKey)
  if (fresh === -1) {
    container.replaceChildren(...rows.map((row) => keyed(make(row), row.key)))
    return
  }
  if (fresh > 0) {
    const fragment = document.createDocumentFragment()
    for (const row of rows.slice(0, fresh)) fragment.append(keyed(make(row), row.key))
    container.prepend(fragment)
  }
  while (container.childElementCount > rows.length) container.lastElementChild?.remove()
}

function keyed(element: Element, key: string): Element {
  ;(element as HTMLElement).dataset['key'] = key
  return element
}
