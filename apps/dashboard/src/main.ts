import { openClient } from './client.js'
import { rememberedTargets } from './view/remember.js'
import { type PanelOptions, TargetPanel } from './view/target-panel.js'
import { loadDemoTarget } from './demo-target.js'

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

addButton.addEventListener('click', () => {
  // A new target usually lives on the same server as the last one.
  const last = [...panels].at(-1)
  add({ settings: last === undefined ? {} : { url: last.serverUrl() } }).focus()
})

const remembered = rememberedTargets()
const demo = await loadDemoTarget()
if (demo !== undefined) add({ settings: demo.settings, autoConnect: demo.autoConnect })
for (const settings of remembered) add({ settings: { ...settings, remember: true } })
if (panels.size === 0) add().focus()
