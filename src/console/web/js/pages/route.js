// One route: its description and strategy, its hosts with weights (add, edit, delete
// inline, through the same store code as the CLI), the instances servers
// registered (drain, undrain), health and latest status per host and caller, and charts of successes and errors per host that keep
// updating. Each card is its own part (route-*.js); this page lays them out
// and refreshes them together.
import { ApiError, del, get } from '../api.js';
import { h, healthBadge, replace } from '../dom.js';
import { confirmButton, FORM_ERROR_EVENT, messageLine, poll } from '../ui.js';
import { routeCallers } from './route-callers.js';
import { hostName, routeCharts } from './route-charts.js';
import { routeModule } from './route-module.js';
import { routeHosts } from './route-hosts.js';
import { routeInstances } from './route-instances.js';

const REFRESH_MS = 10_000;
const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

/** A colour per host, kept stable while the page is open: the table's swatches match the charts' lines. */
function hostColors() {
  const colors = new Map();
  return (/** @type {string} */ name) => {
    if (!colors.has(name)) colors.set(name, COLORS[colors.size % COLORS.length]);
    return colors.get(name);
  };
}

/** @type {import('../app.js').Page} */
export function routePage(root, ctx) {
  const [modid, cmdid] = ctx.params.map(Number);
  const base = `/modules/${modid}/${cmdid}`;
  document.title = `${modid}:${cmdid} · Lars console`;
  const message = messageLine();
  const onError = (/** @type {unknown} */ err) => message.error(err);
  /** @param {number} version @param {string} what */
  const onSaved = (version, what) => message.notice(`${what} — route version ${version}; dns pushes it to subscribed agents at once with notification on, else at its next poll.`);
  const colorOf = hostColors();

  /** @type {any} */
  let route = null;
  const healthSlot = h('span');
  const mayEdit = ctx.mayChange(modid, cmdid);
  const module = routeModule({ base, mayEdit, onSaved });
  const hosts = routeHosts({ base, mayEdit, colorOf, onSaved, onChanged: () => refresh(), onError });
  const instances = routeInstances({ base, mayEdit, onSaved, onChanged: () => refresh(), onError });
  const callers = routeCallers();
  const charts = routeCharts(`${base}/series`, { colorOf, routeHosts: () => route?.hosts.map(hostName) ?? [], onError });

  const refresh = async () => {
    const [nextRoute, status, registered] = await Promise.all([get(base), get(`${base}/status`), get(`${base}/instances`)]);
    const first = route === null;
    route = nextRoute;
    replace(healthSlot, healthBadge(status.health.state));
    module.update(route.module);
    hosts.update(route, status);
    instances.update(registered);
    callers.update(status);
    if (first) charts.start();
  };

  const deleteModule = mayEdit
    ? confirmButton('Delete module', 'Confirm: delete module and all hosts', async () => {
        try {
          const answer = await del(base);
          ctx.navigate(`/modules?deleted=${modid}:${cmdid}&version=${answer.version}`);
        } catch (err) {
          message.error(err);
        }
      })
    : null;

  root.append(
    h('nav', { class: 'crumbs' }, h('a', { href: '/modules' }, 'Modules'), ' / ', h('span', { class: 'mono' }, `${modid}:${cmdid}`)),
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('div', { class: 'title-row' }, h('h1', null, `Module ${modid}:${cmdid}`), healthSlot), module.el),
      h('div', { class: 'head-actions' }, h('a', { class: 'button ghost', href: `/changes?q=${modid}:${cmdid}` }, 'Change log'), deleteModule),
    ),
    message.el,
    hosts.el,
    instances.el,
    charts.el,
    callers.el,
  );

  root.addEventListener(FORM_ERROR_EVENT, () => message.clear());

  /** @type {() => void} */
  let stopRefresh = null;
  const stop = () => {
    stopRefresh();
    charts.stop();
  };
  stopRefresh = poll(refresh, REFRESH_MS, (err) => {
    if (err instanceof ApiError && err.status === 404) {
      stop();
      replace(root, h('h1', null, `Module ${modid}:${cmdid} does not exist`), h('p', null, h('a', { href: '/modules' }, 'Back to the modules')));
      return;
    }
    message.error(err);
  });
  return stop;
}
