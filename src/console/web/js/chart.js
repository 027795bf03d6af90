// A small SVG line chart: one line per series over evenly spaced time
// buckets, a y axis from zero, local-time x ticks, and a hover read-out.
// It redraws itself when its box changes size.
import { fmtCompact, fmtNumber, h, replace, svg } from './dom.js';

/**
 * @typedef {{ name: string, color: string, values: number[] }} Series
 * @typedef {{ buckets: number[], bucketSeconds: number, from: number, to: number, series: Series[], empty?: string }} ChartData
 */

const HEIGHT = 200;
const MARGIN = { left: 46, right: 14, top: 10, bottom: 24 };
const TIME_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800];

/** The smallest "round" number (1, 2, 2.5, 5 times a power of ten) with 4 steps covering max. @param {number} max */
function niceTop(max) {
  if (max <= 0) return 4;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return Math.max(step * 4, 4);
}

/** Tick times aligned to the local clock (whole minutes, hours, days). @param {number} from @param {number} to @param {number} width */
function timeTicks(from, to, width) {
  const maxTicks = Math.max(2, Math.floor(width / 90));
  const step = TIME_STEPS.find((s) => (to - from) / s <= maxTicks) ?? 172800;
  const offset = new Date(from * 1000).getTimezoneOffset() * 60;
  const ticks = [];
  for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) ticks.push(t);
  return { ticks, step };
}

/** @param {number} t @param {number} step */
function tickLabel(t, step) {
  const date = new Date(t * 1000);
  if (step >= 86400) return date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' });
  return date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** A small coloured square naming a series. @param {string} color */
export function swatch(color) {
  const el = h('span', { class: 'swatch' });
  el.style.background = color;
  return el;
}

/** @param {HTMLElement} container @param {string} title */
export function lineChart(container, title) {
  const box = h('div', { class: 'chart' });
  const tooltip = h('div', { class: 'chart-tooltip', hidden: true });
  container.append(box);
  /** @type {ChartData | null} */
  let data = null;
  let lastWidth = 0;

  const draw = () => {
    if (!data) return;
    const width = Math.max(280, box.clientWidth || 600);
    lastWidth = width;
    const { buckets, series, from, to } = data;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const span = Math.max(1, to - from);
    const x = (/** @type {number} */ t) => MARGIN.left + ((t - from) / span) * plotW;
    const max = Math.max(0, ...series.flatMap((s) => s.values));
    const top = niceTop(max);
    const y = (/** @type {number} */ v) => MARGIN.top + plotH - (v / top) * plotH;

    const root = svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, role: 'img', 'aria-label': title, class: 'chart-svg' });
    for (let i = 0; i <= 4; i++) {
      const v = (top / 4) * i;
      root.append(
        svg('line', { class: 'grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: y(v), y2: y(v) }),
        svg('text', { class: 'axis-label', x: MARGIN.left - 6, y: y(v) + 4, 'text-anchor': 'end' }),
      );
      root.lastChild.textContent = fmtCompact(v);
    }
    const { ticks, step } = timeTicks(from, to, plotW);
    for (const t of ticks) {
      root.append(svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 4 }));
      // Labels near either end are anchored inwards so they stay inside the box.
      const anchor = x(t) > width - MARGIN.right - 30 ? 'end' : x(t) < MARGIN.left + 30 ? 'start' : 'middle';
      const label = svg('text', { class: 'axis-label', x: x(t), y: HEIGHT - 6, 'text-anchor': anchor });
      label.textContent = tickLabel(t, step);
      root.append(label);
    }
    root.append(svg('line', { class: 'axis', x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }));

    if (max === 0) {
      const note = svg('text', { class: 'chart-empty', x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle' });
      note.textContent = data.empty ?? 'No calls reported in this period';
      root.append(note);
    }
    for (const s of series) {
      const d = s.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(buckets[i]).toFixed(1)},${y(v).toFixed(1)}`).join('');
      root.append(svg('path', { class: 'series-line', d, stroke: s.color, 'data-series': s.name }));
    }

    const cursor = svg('line', { class: 'cursor', x1: 0, x2: 0, y1: MARGIN.top, y2: MARGIN.top + plotH, visibility: 'hidden' });
    const overlay = svg('rect', { class: 'overlay', x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH });
    root.append(cursor, overlay);
    overlay.addEventListener('mousemove', (event) => {
      if (buckets.length === 0) return;
      const rect = root.getBoundingClientRect();
      const t = from + ((event.clientX - rect.left - MARGIN.left) / plotW) * span;
      const i = Math.min(buckets.length - 1, Math.max(0, Math.round((t - buckets[0]) / data.bucketSeconds)));
      const cx = x(buckets[i]);
      cursor.setAttribute('x1', String(cx));
      cursor.setAttribute('x2', String(cx));
      cursor.setAttribute('visibility', 'visible');
      const rows = series
        .map((s) => ({ s, v: s.values[i] ?? 0 }))
        .sort((a, b) => b.v - a.v)
        .slice(0, 8)
        .map(({ s, v }) => h('div', { class: 'tip-row' }, swatch(s.color), h('span', null, s.name), h('b', null, fmtNumber(v))));
      replace(tooltip, h('div', { class: 'tip-time' }, new Date(buckets[i] * 1000).toLocaleString()), rows);
      tooltip.hidden = false;
      tooltip.style.left = `${Math.min(cx + 12, width - 190)}px`;
    });
    overlay.addEventListener('mouseleave', () => {
      cursor.setAttribute('visibility', 'hidden');
      tooltip.hidden = true;
    });
    replace(box, root, tooltip);
  };

  const resize = new ResizeObserver(() => {
    if (box.clientWidth !== lastWidth) draw();
  });
  resize.observe(box);

  return {
    /** @param {ChartData} next */
    update(next) {
      data = next;
      draw();
    },
    destroy() {
      resize.disconnect();
    },
  };
}
