// The "Latest status by caller" card of a route: per host, what each agent
// last reported (calls and their durations, where the callers report them),
// including hosts that left the route but still have reports.
import { callerStateBadge, fmtMs, fmtNumber, fmtTime, h, replace, timeCell } from '../dom.js';
import { card } from '../ui.js';
import { hostName } from './route-charts.js';

export function routeCallers() {
  const body = h('tbody');
  const el = card(
    'Latest status by caller',
    [],
    h(
      'table',
      { class: 'table', id: 'callers-table' },
      h('thead', null, h('tr', null, h('th', null, 'Host'), h('th', null, 'Caller (agent host)'), h('th', { class: 'num' }, 'Latest report: ok'), h('th', { class: 'num' }, 'err'), h('th', { class: 'num' }, 'Mean duration'), h('th', { class: 'num' }, 'Longest'), h('th', null, 'State'), h('th', null, 'Reported'))),
      body,
    ),
  );

  /** @param {any} status */
  const update = (status) => {
    const rows = status.hosts.flatMap((/** @type {any} */ s) =>
      s.callers.map((/** @type {any} */ c, /** @type {number} */ i) =>
        h(
          'tr',
          { class: i === 0 ? 'group-start' : '' },
          h('td', null, i === 0 ? h('span', { class: 'mono' }, hostName(s), s.inRoute ? null : h('span', { class: 'badge health-none' }, 'not in route')) : null),
          h('td', { class: 'mono' }, c.caller),
          h('td', { class: 'num' }, fmtNumber(c.succ)),
          h('td', { class: 'num' }, h('span', { class: c.err > 0 ? 'err-text' : '' }, fmtNumber(c.err))),
          h('td', { class: 'num' }, c.latencyMs === null ? '–' : fmtMs(c.latencyMs)),
          h('td', { class: 'num' }, c.maxLatencyMs === null ? '–' : fmtMs(c.maxLatencyMs)),
          h('td', null, callerStateBadge(c.overload)),
          h('td', null, h('span', { title: fmtTime(c.reportedAt) }, timeCell(c.reportedAt, status.now))),
        ),
      ),
    );
    replace(body, rows.length > 0 ? rows : h('tr', null, h('td', { colspan: 8, class: 'empty' }, 'No agent has reported calls to this route yet.')));
  };

  return { el, update };
}
