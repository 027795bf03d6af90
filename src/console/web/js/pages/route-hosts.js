// The "Hosts" card of a route: each host with its weight, health and latest
// counts; those who may change the module (admins, editors granted it) add a
// host, edit a weight and delete a host inline.
import { del, patch, post, put } from '../api.js';
import { swatch } from '../chart.js';
import { errorShare, fmtNumber, h, healthBadge, LATEST_CALLS_HEADING, replace, timeCell } from '../dom.js';
import { cancelOnEscape, card, clearFormError, confirmButton, field, messageLine, showFormError } from '../ui.js';
import { toInt } from './modules.js';
import { hostName } from './route-charts.js';

/** What every edit needs: the route's API path, and whom to tell once it is saved (onSaved) and should be reloaded (onChanged). */
/** @typedef {{ base: string, onSaved: (version: number, what: string) => void, onChanged: () => Promise<void> }} Editing */

/** The weight cell's inline form. @param {any} host @param {Editing & { onDone: () => void, onCancel: () => void }} options */
function weightForm(host, options) {
  const name = hostName(host);
  const rowMessage = messageLine();
  const input = h('input', { name: 'weight', type: 'number', min: 0, max: 1000, value: String(host.weight), class: 'weight-input', title: 'relative share of new calls in weighted strategies; 0 drains the host', 'aria-label': `weight of ${name}` });
  const form = h(
    'form',
    { class: 'inline-edit', novalidate: true },
    input,
    h('button', { type: 'submit', class: 'button primary small', text: 'Save' }),
    h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: options.onCancel }),
    rowMessage.el,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await patch(`${options.base}/hosts/${host.ip}/${host.port}`, { weight: toInt(input.value) });
      options.onDone();
      options.onSaved(answer.version, `Weight of ${name} set to ${input.value}`);
      await options.onChanged();
    } catch (err) {
      showFormError(form, rowMessage, err);
    }
  });
  cancelOnEscape(form, options.onCancel);
  return { form, input };
}

/** The form under the table that adds a host. @param {Editing} options */
function addHostForm(options) {
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
      const answer = await post(`${options.base}/hosts`, { ip: ip.value.trim(), port: toInt(port.value), weight: toInt(weight.value || '1') });
      options.onSaved(answer.version, `Added ${answer.host.ip}:${answer.host.port}`);
      clearFormError(form, formMessage);
      ip.value = '';
      port.value = '';
      weight.value = '1';
      ip.focus();
      await options.onChanged();
    } catch (err) {
      showFormError(form, formMessage, err);
    }
  });
  return form;
}

/**
 * The card: the table, with the add form below it for those who may change the module.
 * @param {Editing & { mayEdit: boolean, colorOf: (host: string) => string, onError: (err: unknown) => void }} options
 */
export function routeHosts(options) {
  const { base, mayEdit } = options;
  const headCells = ['Host', 'Weight', 'Health', LATEST_CALLS_HEADING, 'Last report', ...(mayEdit ? [''] : [])];
  const versionSlot = h('span', { class: 'pill' });
  const body = h('tbody');
  const addSlot = h('div');
  /** @type {any[] | null} */
  let hosts = null;
  /** @type {any} */
  let status = null;
  /** Host whose weight is being edited: the periodic refresh leaves the table alone meanwhile. */
  let editing = '';

  const statusOf = (/** @type {string} */ name) => status?.hosts.find((/** @type {any} */ s) => hostName(s) === name);

  /** @param {any} host */
  const row = (host) => {
    const name = hostName(host);
    const s = statusOf(name);
    const cells = [
      h('td', null, h('span', { class: 'swatch-cell' }, swatch(options.colorOf(name)), h('span', { class: 'mono strong' }, name))),
      h('td', { class: 'num weight' }, fmtNumber(host.weight), host.drained ? h('span', { class: 'badge health-degraded', title: 'dns serves this host with weight 0 until it is undrained' }, 'Drained') : null),
      h('td', null, healthBadge(s?.health.state ?? 'none'), s && s.callers.length > 0 ? h('span', { class: 'muted small' }, ` ${s.callers.length} caller${s.callers.length === 1 ? '' : 's'}`) : null),
      h('td', { class: 'num' }, s && s.health.succ + s.health.err > 0 ? `${fmtNumber(s.health.succ)} / ${fmtNumber(s.health.err)} (${errorShare(s.health.succ, s.health.err)})` : h('span', { class: 'muted' }, '—')),
      h('td', null, timeCell(s?.health.lastReportAt ?? null, status?.now ?? 0)),
    ];
    if (mayEdit) {
      cells.push(
        h(
          'td',
          { class: 'actions' },
          h('button', { type: 'button', class: 'button ghost small', text: 'Edit weight', onclick: () => editWeight(host) }),
          h('button', {
            type: 'button',
            class: 'button ghost small',
            text: host.drained ? 'Undrain' : 'Drain',
            title: host.drained ? `serve ${name} with weight ${host.weight} again` : `maintenance: agents send ${name} no new calls; its weight ${host.weight} is kept`,
            onclick: async () => {
              try {
                const answer = host.drained ? await del(`${base}/hosts/${host.ip}/${host.port}/drain`) : await put(`${base}/hosts/${host.ip}/${host.port}/drain`);
                options.onSaved(answer.version, host.drained ? `Undrained ${name}` : `Drained ${name} (weight ${host.weight} kept)`);
                await options.onChanged();
              } catch (err) {
                options.onError(err);
              }
            },
          }),
          confirmButton('Delete', 'Confirm delete', async () => {
            try {
              const answer = await del(`${base}/hosts/${host.ip}/${host.port}`);
              options.onSaved(answer.version, `Removed ${name}`);
              await options.onChanged();
            } catch (err) {
              options.onError(err);
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
    const tr = body.querySelector(`tr[data-host="${CSS.escape(name)}"]`);
    if (!tr) return;
    editing = name;
    const close = () => {
      editing = '';
      draw();
    };
    const { form, input } = weightForm(host, { ...options, onDone: () => (editing = ''), onCancel: close });
    replace(tr.querySelector('td.weight'), form);
    input.select();
  };

  const draw = () => {
    // Never redraw under the user's hands: a weight being edited, or a delete waiting for its confirmation.
    if (editing || body.querySelector('.armed')) return;
    replace(
      body,
      hosts.length === 0
        ? h('tr', null, h('td', { colspan: headCells.length, class: 'empty' }, mayEdit ? 'No configured hosts yet: add the first one below (registered instances have their own card).' : 'No configured hosts.'))
        : hosts.map(row),
    );
  };

  replace(body, h('tr', null, h('td', { colspan: headCells.length, class: 'empty' }, 'Loading…')));
  // Lars's strategy keeps every host with weight > 0 alike (docs/balancer.md): say so where weights are edited.
  const weightHint = h('p', { class: 'muted small card-note', id: 'weight-hint', hidden: true });
  const el = card(
    'Hosts',
    [versionSlot],
    h(
      'table',
      { class: 'table', id: 'hosts-table' },
      h('thead', null, h('tr', null, headCells.map((c, i) => h('th', { class: i === 1 || i === 3 ? 'num' : '' }, c)))),
      body,
    ),
    weightHint,
    addSlot,
  );

  return {
    el,
    /** @param {any} route @param {any} nextStatus */
    update(route, nextStatus) {
      if (hosts === null && mayEdit) replace(addSlot, addHostForm(options));
      hosts = route.hosts;
      status = nextStatus;
      versionSlot.textContent = `route version ${route.version}`;
      const strategy = route.module.strategy;
      weightHint.hidden = strategy !== null && strategy !== 'lars';
      weightHint.textContent =
        strategy === null
          ? 'Weights: this route runs each agent\'s own strategy; lars, the default, honours only weight 0 (drain). Pick a weighted strategy in the module\'s settings to give hosts shares.'
          : 'Weights: the lars strategy honours only weight 0 (drain). Pick a weighted strategy in the module\'s settings to give hosts shares.';
      draw();
    },
  };
}
