// The "Calls over time" card of a route: successes, errors and call durations
// per host for the last hour, day or week, refreshed on a timer while the page
// is open.
import { get } from '../api.js';
import { lineChart, swatch } from '../chart.js';
import { fmtMs, fmtNumber, h, replace } from '../dom.js';
import { card, poll, segmented } from '../ui.js';

const RANGES = [
  { value: 'hour', label: 'Last hour', refreshMs: 15_000 },
  { value: 'day', label: 'Last day', refreshMs: 60_000 },
  { value: 'week', label: 'Last week', refreshMs: 300_000 },
];

/** @param {{ ip: string, port: number }} host */
export const hostName = (host) => `${host.ip}:${host.port}`;

/**
 * Per host, the counts of every bucket from the answer's range (absent buckets are 0) and the
 * mean and longest call duration (null where no call of the bucket reported one).
 * The bucket in progress is dropped while it is still empty: drawn as 0 it would look like an outage.
 * @param {{ from: number, to: number, bucketSeconds: number, points: any[] }} series @param {string[]} routeHosts
 */
export function shapeSeries(series, routeHosts) {
  const { from, to, bucketSeconds, points } = series;
  const first = Math.floor(from / bucketSeconds) * bucketSeconds;
  const last = Math.floor((to - 1) / bucketSeconds) * bucketSeconds;
  const buckets = [];
  for (let t = first; t <= last; t += bucketSeconds) buckets.push(t);
  const names = [...new Set([...routeHosts, ...points.map(hostName)])];
  const empty = (/** @type {number | null} */ fill) => new Array(buckets.length).fill(fill);
  const byHost = new Map(names.map((n) => [n, { succ: empty(0), err: empty(0), latency: empty(null), maxLatency: empty(null) }]));
  for (const p of points) {
    const i = (p.bucket - first) / bucketSeconds;
    const values = byHost.get(hostName(p));
    if (values && i >= 0 && i < buckets.length) {
      values.succ[i] += p.succ;
      values.err[i] += p.err;
      values.latency[i] = p.latencyMs;
      values.maxLatency[i] = p.maxLatencyMs;
    }
  }
  const lastEmpty = [...byHost.values()].every((v) => !v.succ[buckets.length - 1] && !v.err[buckets.length - 1]);
  if (lastEmpty && buckets.length > 1) {
    buckets.pop();
    for (const v of byHost.values()) for (const list of Object.values(v)) list.pop();
  }
  // Hosts without a single call stay out of the way, unless nobody has any.
  const withData = names.filter((n) => byHost.get(n).succ.some(Boolean) || byHost.get(n).err.some(Boolean));
  return { buckets, byHost, hosts: withData.length > 0 ? withData : names };
}

const DURATIONS = [
  { value: 'latency', label: 'Mean' },
  { value: 'maxLatency', label: 'Longest' },
];

/**
 * @param {string} seriesPath API path of the route's series
 * @param {{ colorOf: (host: string) => string, routeHosts: () => string[], onError: (err: unknown) => void }} options
 */
export function routeCharts(seriesPath, options) {
  const legend = h('div', { class: 'legend' });
  const note = h('span', { class: 'muted small' });
  const succTitle = h('h3', null, 'Successful calls');
  const errTitle = h('h3', null, 'Failed calls');
  const latencyTitle = h('h3', null, 'Call duration');
  const succBox = h('div', { class: 'chart-box', id: 'chart-succ' }, succTitle);
  const errBox = h('div', { class: 'chart-box', id: 'chart-err' }, errTitle);
  let duration = 'latency';
  /** @type {any} */
  let lastSeries = null;
  const durationPicker = segmented(DURATIONS, duration, (value) => {
    duration = value;
    if (lastSeries) draw(lastSeries);
  });
  const latencyBox = h('div', { class: 'chart-box', id: 'chart-latency' }, h('div', { class: 'chart-box-head' }, latencyTitle, durationPicker));
  const calls = { format: fmtNumber, empty: 'No calls reported in this period' };
  const succChart = lineChart(succBox, { ...calls, title: 'Successful calls per host' });
  const errChart = lineChart(errBox, { ...calls, title: 'Failed calls per host' });
  const latencyChart = lineChart(latencyBox, { title: 'Call duration per host, ms', format: fmtMs, empty: 'No call in this period reported its duration' });

  /** @param {any} series */
  const draw = (series) => {
    lastSeries = series;
    const { buckets, byHost, hosts } = shapeSeries(series, options.routeHosts());
    const { bucketSeconds } = series;
    const data = (/** @type {'succ' | 'err' | 'latency' | 'maxLatency'} */ kind) => ({
      buckets,
      series: hosts.map((n) => ({ name: n, color: options.colorOf(n), values: byHost.get(n)[kind] })),
    });
    succChart.update(data('succ'));
    errChart.update(data('err'));
    latencyChart.update(data(/** @type {'latency' | 'maxLatency'} */ (duration)));
    replace(legend, hosts.map((n) => h('span', { class: 'legend-item' }, swatch(options.colorOf(n)), n)));
    const size = bucketSeconds >= 3600 ? `${bucketSeconds / 3600} h` : `${bucketSeconds / 60} min`;
    // Say the window on the chart itself: the tables beside it show one report interval.
    succTitle.textContent = `Successful calls per ${size}, summed over callers`;
    errTitle.textContent = `Failed calls per ${size}, summed over callers`;
    latencyTitle.textContent = `${duration === 'latency' ? 'Mean' : 'Longest'} call duration per ${size}, over callers`;
    note.textContent = `${size} buckets · drag across a chart to zoom, double-click to zoom out · updated ${new Date().toLocaleTimeString()}`;
  };

  let range = 'hour';
  let stopPolling = () => {};
  const start = () => {
    stopPolling();
    const { refreshMs } = RANGES.find((r) => r.value === range);
    stopPolling = poll(async () => draw(await get(`${seriesPath}?range=${range}`)), refreshMs, options.onError);
  };

  const picker = segmented(RANGES, range, (value) => {
    range = value;
    start();
  });
  const el = card('Calls over time', [picker], h('div', { class: 'chart-meta' }, legend, note), h('div', { class: 'chart-grid' }, succBox, errBox, latencyBox));

  return {
    el,
    start,
    stop() {
      stopPolling();
      succChart.destroy();
      errChart.destroy();
      latencyChart.destroy();
    },
  };
}
