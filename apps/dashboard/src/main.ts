import { openClient } from './client.js'
import { initialPanels, offeredBefore, rememberedTargets, sessionTargets } from './view/remember.js'
import { type PanelOptions, TargetPanel } from './view/target-panel.js'
import { loadDemoTarget } from './demo-target.js'
import { parkAll } from './handover.js'

const targets = document.querySelector<HTMLElement>('#targets')
const addButton = document.querySelector<HTMLButtonElement>('#add-target')
if (targets === null || addButton === null) throw new Error('index.html lacks #targets or #add-target')

const panels = new Set<TargetPanel>()

function add(options: Omit<PanelOptions, 'onRemove'> = {}): TargetPanel {
  const panel = new TargetPanel(openClient, {
    ...options,
    onRemove: (removed) => {
      panels.delete(removed)
      addButton?.focus()
    },
  })
  panels.add(panel)
  targets?.append(panel.element)
  panel.start()
  return panel
}

const onAdd = (): void => {
  // A new target usually lives on the same server as the last one.
  const last = [...panels].at(-1)
  add({ settings: last === undefined ? {} : { url: last.serverUrl() } }).focus()
}
addButton.addEventListener('click', onAdd)

// The Vite dev loop: an edit of any module under this one re-runs this module rather than
// reloading the page. The panels go, their clients stay open (parked by handover.ts, their
// numbers kept in localStorage), and the panels this module builds again take them back: no
// socket and no identify per saved file.
if (import.meta.hot) {
  import.meta.hot.accept()
  import.meta.hot.dispose(() => {
    parkAll()
    addButton.removeEventListener('click', onAdd)
    for (const panel of panels) panel.detach()
    panels.clear()
  })
}

// A reload brings back what this tab had connected (sessionStorage, tokens included) and
// connects it again; remembered targets come back without their token, to be entered.
const session = sessionTargets()
const remembered = rememberedTargets()
const demo = await loadDemoTarget()
for (const panel of initialPanels({ demo, session, remembered, offeredBefore: demo !== undefined && offeredBefore() })) add(panel)
if (panels.size === 0) add().focus()
