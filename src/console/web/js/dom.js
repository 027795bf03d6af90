// Building DOM nodes without HTML strings (nothing from the API is ever
// parsed as markup), and formatting numbers and times for people.

/**
 * h('a', { href: '/x', class: 'link', onclick: fn }, 'text', child)
 * Props starting with "on" become listeners; class, text, value, checked,
 * disabled and hidden are set as properties; everything else as attributes.
 * Children may be nodes, strings, numbers, arrays, or null/false (skipped).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [props]
 * @param {...any} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (['value', 'checked', 'disabled', 'hidden'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Node} parent @param {any[]} children */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of el. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const numberFormat = new Intl.NumberFormat();
const compactFormat = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/** A call duration: to three digits below 100 ms, whole ms above. @param {number} ms */
export const fmtMs = (ms) => `${ms >= 100 ? numberFormat.format(Math.round(ms)) : ms.toPrecision(3)} ms`;

/** @param {number} n */
export const fmtNumber = (n) => numberFormat.format(n);
/** @param {number} n */
export const fmtCompact = (n) => compactFormat.format(n);

/** @param {number} unixSeconds */
export function fmtTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** "just now", "42 s ago", "5 min ago", "3 h ago", "2 d ago". @param {number} unixSeconds @param {number} now */
export function fmtAgo(unixSeconds, now) {
  const s = Math.max(0, now - unixSeconds);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** A relative time with the exact time as its tooltip. @param {number | null} unixSeconds @param {number} now */
export function timeCell(unixSeconds, now) {
  if (unixSeconds === null || unixSeconds === undefined) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: new Date(unixSeconds * 1000).toISOString(), title: fmtTime(unixSeconds) }, fmtAgo(unixSeconds, now));
}

// One vocabulary (docs/console.md, "States"): an agent reports a host healthy or
// overloaded; a host or a route is Overloaded when every report says so.
export const HEALTH_LABELS = { ok: 'Healthy', degraded: 'Degraded', down: 'Overloaded', stale: 'Stale', none: 'No reports' };

/** One caller's judgement of a host, in the same words. @param {boolean} overload */
export function callerStateBadge(overload) {
  return overload ? h('span', { class: 'badge health-down' }, 'Overloaded') : h('span', { class: 'badge health-ok' }, 'Healthy');
}

/** Counts from the latest reports cover one report interval of each agent, not the chart's buckets: the heading says so. */
export const LATEST_CALLS_HEADING = 'Latest report: ok / err';

/** @param {string} state */
export function healthBadge(state) {
  return h('span', { class: `badge health-${state}` }, HEALTH_LABELS[state] ?? state);
}

/** The share of errors as text, e.g. "2.5 %". @param {number} succ @param {number} err */
export function errorShare(succ, err) {
  const total = succ + err;
  if (total === 0) return '—';
  const pct = (100 * err) / total;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)} %`;
}
