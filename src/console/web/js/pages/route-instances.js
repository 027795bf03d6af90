// The "Registered instances" card of a route: servers that registered
// themselves with dns, with the weight served, the load they last reported
// and their last heartbeat; those who may change the module (admins, editors
// granted it) drain and undrain one. The operator's weight is kept apart from
// the instance, so a drain holds when it registers again.
import { del, put } from '../api.js';
import { fmtNumber, h, replace, timeCell } from '../dom.js';
import { card, confirmButton } from '../ui.js';
import { hostName } from './route-charts.js';

/** @param {any} i */
function weightCell(i) {
  const badge = i.drained
    ? h('span', { class: 'badge health-down' }, 'Drained')
    : i.overrideWeight !== null
      ? h('span', { class: 'badge health-degraded', title: `registered with weight ${i.registeredWeight}` }, 'operator weight')
      : null;
  return h('td', { class: 'num weight' }, fmtNumber(i.weight), badge ? ' ' : null, badge);
}

/** @param {any} i */
function loadCell(i) {
  if (!i.load) return h('td', { class: 'num load' }, h('span', { class: 'muted', title: 'no load reported yet' }, '—'));
  const { score, inFlight, connections, cpuPermille } = i.load;
  return h('td', { class: 'num load', title: `${inFlight} in flight, ${connections} connections, CPU ${cpuPermille} ‰ of a core; score 1000 = at capacity` }, fmtNumber(score));
}

/**
 * @param {{ base: string, mayEdit: boolean, onSaved: (version: number, what: string) => void, onChanged: () => Promise<void>, onError: (err: unknown) => void }} options
 */
export function routeInstances(options) {
  const { base, mayEdit } = options;
  const headCells = ['Instance', 'Weight', 'Load score', 'Last heartbeat', 'Registered', 'dns', ...(mayEdit ? [''] : [])];
  const body = h('tbody');
  /** @type {any} */
  let answer = null;

  /** Runs an edit, then tells the page. @param {() => Promise<any>} request @param {string} what */
  const act = async (request, what) => {
    try {
      const saved = await request();
      options.onSaved(saved.version, what);
      await options.onChanged();
    } catch (err) {
      options.onError(err);
    }
  };

  /** @param {any} i */
  const actions = (i) => {
    const name = hostName(i);
    const path = `${base}/instances/${i.ip}/${i.port}/weight`;
    const drain = confirmButton('Drain', 'Confirm drain', () => act(() => put(path, { weight: 0 }), `Drained ${name}`));
    const undrain = h('button', {
      type: 'button',
      class: 'button ghost small',
      text: i.overrideWeight === 0 ? 'Undrain' : 'Clear operator weight',
      onclick: () => act(() => del(path), `${name} serves with its registered weight ${i.registeredWeight}`),
    });
    return h('td', { class: 'actions' }, i.overrideWeight === 0 ? null : drain, i.overrideWeight === null ? null : undrain);
  };

  /** @param {any} i */
  const row = (i) => {
    const name = hostName(i);
    const shadowed = i.shadowed ? h('span', { class: 'badge health-none', title: 'a configured host at this address serves instead' }, 'configured host wins') : null;
    return h(
      'tr',
      { 'data-instance': name },
      h('td', null, h('span', { class: 'mono strong' }, name), shadowed),
      weightCell(i),
      loadCell(i),
      h('td', { class: 'heartbeat' }, timeCell(i.lastHeartbeat, answer.now)),
      h('td', null, timeCell(i.registeredAt, answer.now)),
      h('td', { class: 'mono small' }, i.owner),
      mayEdit ? actions(i) : null,
    );
  };

  const draw = () => {
    // A drain waiting for its confirmation is not redrawn away.
    if (body.querySelector('.armed')) return;
    replace(
      body,
      answer.instances.length === 0
        ? h('tr', null, h('td', { colspan: headCells.length, class: 'empty' }, 'No registered instances: servers register themselves with dns (lars serve --register, or registerInstance() in code).'))
        : answer.instances.map(row),
    );
  };

  replace(body, h('tr', null, h('td', { colspan: headCells.length, class: 'empty' }, 'Loading…')));
  const el = card(
    'Registered instances',
    [],
    h(
      'table',
      { class: 'table', id: 'instances-table' },
      h('thead', null, h('tr', null, headCells.map((c, i) => h('th', { class: i === 1 || i === 2 ? 'num' : '' }, c)))),
      body,
    ),
  );

  return {
    el,
    /** @param {any} nextAnswer the instances API's answer */
    update(nextAnswer) {
      answer = nextAnswer;
      draw();
    },
  };
}
