// A time-series line chart drawn by uPlot (docs/console.md, "Charts"): one
// line per series over time buckets, a y axis from zero, a live legend that
// reads out every series at the cursor, drag to zoom into a span and
// double-click to zoom out. It follows its box's width.
import uPlot from '../vendor/uplot.js';
import { fmtCompact, h } from './dom.js';

/**
 * @typedef {{ name: string, color: string, values: (number | null)[], dash?: boolean }} Series
 * @typedef {{ buckets: number[], series: Series[], empty?: string }} ChartData
 * @typedef {{ title: string, format: (value: number) => string, empty: string }} ChartOptions
 */

const HEIGHT = 200;

/** A small coloured square naming a series. @param {string} color */
export function swatch(color) {
  const el = h('span', { class: 'swatch' });
  el.style.background = color;
  return el;
}

/** The y range: zero up to a little over the largest value, so a flat line is not drawn on the top edge. @param {number | null} max @returns {[number, number]} */
function fromZero(max) {
  return [0, max === null || max <= 0 ? 1 : max * 1.08];
}

/**
 * @param {HTMLElement} container
 * @param {ChartOptions} options
 */
export function lineChart(container, options) {
  const box = h('div', { class: 'chart', role: 'figure', 'aria-label': options.title });
  const empty = h('p', { class: 'chart-empty', hidden: true });
  container.append(box);
  /** @type {uPlot | null} */
  let plot = null;
  /** The series drawn, to know when the chart must be built again rather than given new data. */
  let shape = '';
  /** True after a drag zoomed in: new data keeps the span until a double-click. */
  let zoomed = false;

  const width = () => Math.max(280, box.clientWidth || 600);

  /** @param {ChartData} data */
  const build = (data) => {
    plot?.destroy();
    plot = new uPlot(
      {
        width: width(),
        height: HEIGHT,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => fromZero(max) } },
        series: [
          { label: 'Time', value: (_u, t) => (t === null ? '' : new Date(t * 1000).toLocaleString()) },
          ...data.series.map((s) => ({
            label: s.name,
            stroke: s.color,
            width: 2,
            dash: s.dash ? [6, 4] : undefined,
            points: { show: false },
            value: (_u, v) => (v === null || v === undefined ? '–' : options.format(v)),
          })),
        ],
        axes: [{ stroke: '#667085', grid: { stroke: '#eaecf0' } }, { stroke: '#667085', grid: { stroke: '#eaecf0' }, size: 52, values: (_u, splits) => splits.map(fmtCompact) }],
        cursor: { drag: { x: true, y: false } },
        legend: { live: true },
        hooks: { setSelect: [(u) => (zoomed = u.select.width > 0)] },
      },
      [data.buckets, ...data.series.map((s) => s.values)],
      box,
    );
    plot.over.addEventListener('dblclick', () => (zoomed = false));
    box.append(empty);
  };

  const resize = new ResizeObserver(() => {
    if (plot && plot.width !== width()) plot.setSize({ width: width(), height: HEIGHT });
  });
  resize.observe(box);

  return {
    /** @param {ChartData} data */
    update(data) {
      const nextShape = data.series.map((s) => `${s.name} ${s.color} ${s.dash}`).join('|');
      if (plot === null || nextShape !== shape) {
        shape = nextShape;
        zoomed = false;
        build(data);
      } else {
        plot.setData([data.buckets, ...data.series.map((s) => s.values)], !zoomed);
      }
      const nothing = data.series.every((s) => s.values.every((v) => !v));
      empty.textContent = data.empty ?? options.empty;
      empty.hidden = !nothing;
    },
    destroy() {
      resize.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}
