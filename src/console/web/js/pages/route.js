// One route: its hosts with weights (add, edit, delete inline, through the
// same store code as the CLI), health and latest status per host and
// caller, and charts of successes and errors per host that keep updating.
import { ApiError, del, get, patch, post } from '../api.js';
import { swatch } from '../chart.js';
import { errorShare, fmtNumber, fmtTime, h, healthBadge, replace, timeCell } from '../dom.js';
import { card, confirmButton, field, messageLine, poll, showFormError } from '../ui.js';
import { toInt } from './modules.js';
import { hostName, routeCharts } from './route-charts.js';

const REFRESH_MS = 10_000;
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

/** @type {import('../app.js').Page} */
export function routePage(root, ctx) {
  const [modid, cmdid] = ctx.params.map(Number);
  const base = `/modules/${modid}/${cmdid}`;
  document.title = `${modid}:${cmdid} · Lars console`;
  const message = messageLine();
  const stops = [];

  /** @type {any} */
  let route = null;
  /** @type {any} */
  let status = null;
  /** Host whose weight is being edited: the periodic refresh leaves the table alone meanwhile. */
  let editing = '';
  /** Colour per host, kept stable while the page is open. */
  const colors = new Map();
  const colorOf = (/** @type {string} */ name) => {
    if (!colors.has(name)) colors.set(name, COLORS[colors.size % COLORS.length]);
    return colors.get(name);
  };

  const title = h('h1', null, `Module ${modid}:${cmdid}`);
  const descriptionSlot = h('div', { class: 'description' });
  const healthSlot = h('span');
  const versionSlot = h('span', { class: 'pill' });
  const hostsBody = h('tbody');
  const callersBody = h('tbody');
  const addSlot = h('div');
  const charts = routeCharts(`${base}/series`, {
    colorOf,
    routeHosts: () => route?.hosts.map(hostName) ?? [],
    onError: (err) => message.error(err),
  });

  /** @param {number} version @param {string} what */
  const saved = (version, what) => message.notice(`${what} — route version ${version}; dns pushes it to subscribed agents within about a second.`);

  const statusOf = (/** @type {string} */ name) => status?.hosts.find((/** @type {any} */ s) => hostName(s) === name);

  // ------------------------------------------------------------ description

  const drawDescription = () => {
    const text = route.module.description;
    const edit = ctx.isAdmin ? h('button', { type: 'button', class: 'button ghost small', text: 'Edit', onclick: editDescription }) : null;
    replace(descriptionSlot, h('span', { class: text ? '' : 'muted' }, text || 'No description'), ' ', edit);
  };

  const editDescription = () => {
    const formMessage = messageLine();
    const input = h('input', { name: 'description', value: route.module.description, maxlength: 255, class: 'wide-input' });
    const form = h(
      'form',
      { class: 'inline-edit', novalidate: true },
      input,
      h('button', { type: 'submit', class: 'button primary small', text: 'Save' }),
      h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: drawDescription }),
      formMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const answer = await patch(base, { description: input.value });
        route.module.description = input.value;
        drawDescription();
        saved(answer.version, 'Description saved');
      } catch (err) {
        showFormError(form, formMessage, err);
      }
    });
    replace(descriptionSlot, form);
    input.focus();
  };

  // ------------------------------------------------------------ hosts

  /** @param {any} host */
  const hostRow = (host) => {
    const name = hostName(host);
    const s = statusOf(name);
    const cells = [
      h('td', null, h('span', { class: 'swatch-cell' }, swatch(colorOf(name)), h('span', { class: 'mono strong' }, name))),
      h('td', { class: 'num weight' }, fmtNumber(host.weight)),
      h('td', null, healthBadge(s?.health.state ?? 'none'), s && s.callers.length > 0 ? h('span', { class: 'muted small' }, ` ${s.callers.length} caller${s.callers.length === 1 ? '' : 's'}`) : null),
      h('td', { class: 'num' }, s && s.health.succ + s.health.err > 0 ? `${fmtNumber(s.health.succ)} / ${fmtNumber(s.health.err)} (${errorShare(s.health.succ, s.health.err)})` : h('span', { class: 'muted' }, '—')),
      h('td', null, timeCell(s?.health.lastReportAt ?? null, status?.now ?? 0)),
    ];
    if (ctx.isAdmin) {
      cells.push(
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'button ghost small', text: 'Edit weight', onclick: () => editWeight(host) }),
          confirmButton('Delete', 'Confirm delete', async () => {
            try {
              const answer = await del(`${base}/hosts/${host.ip}/${host.port}`);
              saved(answer.version, `Removed ${name}`);
              await refresh();
            } catch (err) {
              message.error(err);
            }
          }),
        ),
      );
    }
    return h('tr', { 'data-host': name }, cells);
  };

  /** @param {any} host */
  const editWeight = (host) => {
    const name = hostName(host);
    editing = name;
    const row = hostsBody.querySelector(`tr[data-host="${CSS.escape(name)}"]`);
    if (!row) return;
    const rowMessage = messageLine();
    const input = h('input', { name: 'weight', type: 'number', min: 1, max: 1000, value: String(host.weight), class: 'weight-input', 'aria-label': `weight of ${name}` });
    const cancel = () => {
      editing = '';
      drawHosts();
    };
    const form = h(
      'form',
      { class: 'inline-edit', novalidate: true },
      input,
      h('button', { type: 'submit', class: 'button primary small', text: 'Save' }),
      h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: cancel }),
      rowMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const answer = await patch(`${base}/hosts/${host.ip}/${host.port}`, { weight: toInt(input.value) });
        editing = '';
        saved(answer.version, `Weight of ${name} set to ${input.value}`);
        await refresh();
      } catch (err) {
        showFormError(form, rowMessage, err);
      }
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') cancel();
    });
    replace(row.querySelector('td.weight'), form);
    input.select();
  };

  const drawHosts = () => {
    // Never redraw under the user's hands: a weight being edited, or a delete waiting for its confirmation.
    if (editing || hostsBody.querySelector('.armed')) return;
    const cols = ctx.isAdmin ? 6 : 5;
    replace(
      hostsBody,
      route.hosts.length === 0
        ? h('tr', null, h('td', { colspan: cols, class: 'empty' }, ctx.isAdmin ? 'No hosts yet: add the first one below.' : 'No hosts.'))
        : route.hosts.map(hostRow),
    );
  };

  const addHostForm = () => {
    const formMessage = messageLine();
    const ip = h('input', { name: 'ip', placeholder: '10.0.0.1', autocomplete: 'off', required: true });
    const port = h('input', { name: 'port', placeholder: '8080', inputmode: 'numeric', required: true });
    const weight = h('input', { name: 'weight', value: '1', inputmode: 'numeric' });
    const form = h(
      'form',
      { class: 'add-host', novalidate: true },
      h('div', { class: 'form-row' }, field('IP address', ip), field('Port', port), field('Weight', weight), h('button', { type: 'submit', class: 'button primary', text: 'Add host' })),
      formMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const answer = await post(`${base}/hosts`, { ip: ip.value.trim(), port: toInt(port.value), weight: toInt(weight.value || '1') });
        saved(answer.version, `Added ${answer.host.ip}:${answer.host.port}`);
        formMessage.clear();
        ip.value = '';
        port.value = '';
        weight.value = '1';
        ip.focus();
        await refresh();
      } catch (err) {
        showFormError(form, formMessage, err);
      }
    });
    return form;
  };

  // ------------------------------------------------------------ status by caller

  const drawCallers = () => {
    const rows = (status?.hosts ?? []).flatMap((/** @type {any} */ s) =>
      s.callers.map((/** @type {any} */ c, /** @type {number} */ i) =>
        h(
          'tr',
          { class: i === 0 ? 'group-start' : '' },
          h('td', null, i === 0 ? h('span', { class: 'mono' }, hostName(s), s.inRoute ? null : h('span', { class: 'badge health-none' }, 'not in route')) : null),
          h('td', { class: 'mono' }, c.caller),
          h('td', { class: 'num' }, fmtNumber(c.succ)),
          h('td', { class: 'num' }, h('span', { class: c.err > 0 ? 'err-text' : '' }, fmtNumber(c.err))),
          h('td', null, c.overload ? h('span', { class: 'badge health-down' }, 'overloaded') : h('span', { class: 'badge health-ok' }, 'idle')),
          h('td', null, h('span', { title: fmtTime(c.reportedAt) }, timeCell(c.reportedAt, status.now))),
        ),
      ),
    );
    replace(callersBody, rows.length > 0 ? rows : h('tr', null, h('td', { colspan: 6, class: 'empty' }, 'No agent has reported calls to this route yet.')));
  };

  // ------------------------------------------------------------ loading

  const refresh = async () => {
    const [nextRoute, nextStatus] = await Promise.all([get(base), get(`${base}/status`)]);
    const first = route === null;
    route = nextRoute;
    status = nextStatus;
    versionSlot.textContent = `route version ${route.version}`;
    replace(healthSlot, healthBadge(status.health.state));
    if (first) {
      drawDescription();
      if (ctx.isAdmin) replace(addSlot, addHostForm());
      charts.start();
    }
    drawHosts();
    drawCallers();
  };

  const headCells = ['Host', 'Weight', 'Health', 'Calls ok / err', 'Last report', ...(ctx.isAdmin ? [''] : [])];
  root.append(
    h('nav', { class: 'crumbs' }, h('a', { href: '/modules' }, 'Modules'), ' / ', h('span', { class: 'mono' }, `${modid}:${cmdid}`)),
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('div', { class: 'title-row' }, title, healthSlot), descriptionSlot),
      h(
        'div',
        { class: 'head-actions' },
        h('a', { class: 'button ghost', href: `/changes?q=${modid}:${cmdid}` }, 'Change log'),
        ctx.isAdmin
          ? confirmButton('Delete module', 'Confirm: delete module and all hosts', async () => {
              try {
                await del(base);
                ctx.navigate('/modules');
              } catch (err) {
                message.error(err);
              }
            })
          : null,
      ),
    ),
    message.el,
    card(
      'Hosts',
      [versionSlot],
      h(
        'table',
        { class: 'table', id: 'hosts-table' },
        h('thead', null, h('tr', null, headCells.map((c, i) => h('th', { class: i === 1 || i === 3 ? 'num' : '' }, c)))),
        hostsBody,
      ),
      addSlot,
    ),
    charts.el,
    card(
      'Latest status by caller',
      [],
      h(
        'table',
        { class: 'table', id: 'callers-table' },
        h('thead', null, h('tr', null, h('th', null, 'Host'), h('th', null, 'Caller (agent host)'), h('th', { class: 'num' }, 'Successes'), h('th', { class: 'num' }, 'Errors'), h('th', null, 'State'), h('th', null, 'Reported'))),
        callersBody,
      ),
    ),
  );
  replace(hostsBody, h('tr', null, h('td', { colspan: headCells.length, class: 'empty' }, 'Loading…')));

  stops.push(
    poll(refresh, REFRESH_MS, (err) => {
      if (err instanceof ApiError && err.status === 404) {
        stops.forEach((stop) => stop());
        replace(root, h('h1', null, `Module ${modid}:${cmdid} does not exist`), h('p', null, h('a', { href: '/modules' }, 'Back to the modules')));
        return;
      }
      message.error(err);
    }),
  );
  stops.push(() => charts.stop());
  return () => stops.forEach((stop) => stop());
}
