// Who is connected: every live dns (its route version and lag, connections,
// and the agents subscribed to it with their routes and last push) and every
// agent host that reports calls. From GET /api/v1/connections; refreshes.
import { get } from '../api.js';
import { h, replace, timeCell } from '../dom.js';
import { card, messageLine, poll } from '../ui.js';

const REFRESH_MS = 5_000;

/** @param {any} node @param {number} version @param {number} now */
function dnsCard(node, version, now) {
  const report = node.report;
  const lag = report ? version - report.routeVersion : null;
  const facts = h(
    'p',
    { class: 'muted small card-note' },
    `listens ${node.address} · up since `,
    timeCell(node.startedAt, now),
    ' · last beat ',
    timeCell(node.heartbeatAt, now),
    report ? ` · route version ${report.routeVersion}${lag === 0 ? ' (in sync)' : ` (${lag} behind the store)`} · ${report.connections} connections · ${report.subscribedRoutes} routes subscribed` : ' · no report yet',
  );
  const peers = report?.peers ?? [];
  const rows = peers.map((/** @type {any} */ p) =>
    h('tr', null, h('td', { class: 'mono' }, p.address), h('td', null, timeCell(p.since, now)), h('td', { class: 'num' }, String(p.routes)), h('td', null, p.lastPushAt === null ? h('span', { class: 'muted' }, 'none yet') : timeCell(p.lastPushAt, now))),
  );
  return card(
    `dns ${node.nodeId}`,
    [],
    facts,
    h(
      'table',
      { class: 'table dns-peers', 'data-node': node.nodeId },
      h('thead', null, h('tr', null, h('th', null, 'Agent (address)'), h('th', null, 'Connected'), h('th', { class: 'num' }, 'Routes'), h('th', null, 'Last push'))),
      h('tbody', null, rows.length > 0 ? rows : h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No agent subscribed.'))),
    ),
    report && report.morePeers > 0 ? h('p', { class: 'muted small card-note' }, `and ${report.morePeers} more agents`) : null,
  );
}

/** @type {import('../app.js').Page} */
export function connectedPage(root) {
  document.title = 'Connected · Lars console';
  const message = messageLine();
  const dnsSlot = h('div');
  const callersBody = h('tbody');

  const load = async () => {
    const data = await get('/connections');
    replace(dnsSlot, data.dns.length > 0 ? data.dns.map((/** @type {any} */ n) => dnsCard(n, data.version, data.now)) : card('dns', [], h('p', { class: 'card-note muted' }, 'No dns is running on this store.')));
    replace(
      callersBody,
      data.callers.length > 0
        ? data.callers.map((/** @type {any} */ c) =>
            h('tr', null, h('td', { class: 'mono' }, c.caller), h('td', { class: 'num' }, String(c.routes)), h('td', { class: 'num' }, String(c.hosts)), h('td', null, timeCell(c.lastReportAt, data.now))),
          )
        : h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No agent has reported calls yet.')),
    );
    message.clear();
  };

  root.append(
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Connected'), h('span', { class: 'muted' }, 'the dns instances on this store and their agents; the agent hosts that report calls'))),
    message.el,
    dnsSlot,
    card(
      'Agent hosts reporting calls',
      [],
      h(
        'table',
        { class: 'table', id: 'callers-list' },
        h('thead', null, h('tr', null, h('th', null, 'Caller'), h('th', { class: 'num' }, 'Routes'), h('th', { class: 'num' }, 'Hosts'), h('th', null, 'Last report'))),
        callersBody,
      ),
    ),
  );
  return poll(load, REFRESH_MS, (err) => message.error(err));
}
