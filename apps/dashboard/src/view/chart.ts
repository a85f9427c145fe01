import uPlot from 'uplot'
import { chartSeriesLabels, type ChartData } from '../streams/tiles.js'

/** The series colours, read from CSS custom properties so light and dark themes can differ. */
const seriesVars = ['--series-votes', '--series-views', '--series-invites', '--series-other'] as const

function cssVar(element: Element, name: string, fallback: string): string {
  const value = getComputedStyle(element).getPropertyValue(name).trim()
  return value === '' ? fallback : value
}

/** A uPlot line chart of per-minute rates that follows its container's width and the theme. */
export class RateChart {
  private plot: uPlot | undefined
  private data: uPlot.AlignedData = [[], ...chartSeriesLabels.map(() => [])]
  private readonly resize = new ResizeObserver(() => this.fit())
  private readonly scheme = matchMedia('(prefers-color-scheme: dark)')
  private readonly onScheme = (): void => this.build()

  constructor(private readonly host: HTMLElement) {
    // Built on the first resize callback, which comes once the host is on the page: before
    // that, its CSS custom properties (the series colours) cannot be read.
    this.resize.observe(host)
    this.scheme.addEventListener('change', this.onScheme)
  }

  /** Draws new data. Call it at most once per animation frame (the caller samples). */
  update(chart: ChartData): void {
    this.data = [chart.x as number[], ...(chart.series as number[][])]
    // What the canvas draws, as text a test (or a curious reader of the DOM) can compare: the
    // first second shown and how many seconds.
    this.host.dataset['from'] = String(chart.x[0] ?? '')
    this.host.dataset['points'] = String(chart.x.length)
    this.plot?.setData(this.data)
  }

  /** Stops observing and frees the canvas. */
  destroy(): void {
    this.resize.disconnect()
    this.scheme.removeEventListener('change', this.onScheme)
    this.plot?.destroy()
    this.plot = undefined
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(240, Math.floor(this.host.clientWidth)), height: 200 }
  }

  private fit(): void {
    if (this.plot === undefined) {
      if (this.host.isConnected) this.build()
      return
    }
    const size = this.size()
    if (this.plot !== undefined && (this.plot.width !== size.width || this.plot.height !== size.height)) {
      this.plot.setSize(size)
    }
  }

  private build(): void {
    this.plot?.destroy()
    const axis = cssVar(this.host, '--fg-muted', '#666')
    const grid = cssVar(this.host, '--grid', 'rgba(128,128,128,0.2)')
    const axes: uPlot.Axis = { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
    const clock = (_u: uPlot, splits: number[]): string[] =>
      splits.map((s) => new Date(s * 1000).toLocaleTimeString('en-GB', { hour12: false }))
    this.plot = new uPlot(
      {
        ...this.size(),
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          // Whole seconds at least: sub-second ticks say nothing about per-minute rates.
          { ...axes, values: clock, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], space: 70 },
          { ...axes, size: 48, label: 'per min', labelSize: 16 },
        ],
        cursor: { drag: { x: false, y: false } },
        legend: { live: false },
        series: [
          { label: 'time' },
          ...chartSeriesLabels.map((label, i) => ({
            label,
            stroke: cssVar(this.host, seriesVars[i] ?? '--fg', '#888'),
            width: 2,
            points: { show: false },
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : v.toFixed(1)),
          })),
        ],
      },
      this.data,
      this.host,
    )
  }
}
