// Every module (modid:cmdid) with its description, strategy, host count and
// health from the latest call status; search (a host IP finds it in every
// route), filter by health, add a module, export and import.
import { get, post } from '../api.js';
import { errorShare, fmtNumber, h, HEALTH_LABELS, healthBadge, LATEST_CALLS_HEADING, replace, timeCell } from '../dom.js';
import { strategyLabel, strategySelect } from '../strategy.js';
import { grantText } from '../grants.js';
import { cancelOnEscape, field, messageLine, poll, segmented, showFormError } from '../ui.js';
import { hostSearch } from './modules-host-search.js';
import { importControl } from './modules-import.js';

const REFRESH_MS = 10_000;

/** @param {any} m @param {string} text */
function matches(m, text) {
  if (!text) return true;
  const needle = text.toLowerCase();
  return `${m.modid}:${m.cmdid}`.includes(needle) || `${m.modid} ${m.cmdid}`.includes(needle) || m.description.toLowerCase().includes(needle);
}

/** @param {import('../app.js').PageContext} ctx @param {() => void} onAdded @param {() => void} onCancel */
function addModuleForm(ctx, onAdded, onCancel) {
  const message = messageLine();
  const user = ctx.session?.user;
  // An editor creates only modules its grants cover (docs/console.md, "Roles"): say which before the server refuses.
  const allowed = user?.role === 'editor'
    ? h('p', { class: 'muted small', 'data-allowed-modules': '' }, `Your grants let you add ${user.grants.map(grantText).join(', ')} (a * is every cmdid of that modid).`)
    : null;
  const modid = h('input', { name: 'modid', inputmode: 'numeric', placeholder: 'e.g. 1', required: true });
  const cmdid = h('input', { name: 'cmdid', inputmode: 'numeric', placeholder: 'e.g. 1', required: true });
  const description = h('input', { name: 'description', maxlength: 255, placeholder: 'what this service does' });
  const strategy = strategySelect(null);
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true },
    h('div', { class: 'form-row' }, field('modid', modid), field('cmdid', cmdid), h('div', { class: 'grow' }, field('Description', description)), field('Strategy', strategy)),
    allowed,
    message.el,
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'submit', class: 'button primary', text: 'Add module' }),
      h('button', { type: 'button', class: 'button ghost', text: 'Cancel', onclick: onCancel }),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await post('/modules', { modid: toInt(modid.value), cmdid: toInt(cmdid.value), description: description.value, strategy: strategy.value });
      onAdded();
    } catch (err) {
      showFormError(form, message, err);
    }
  });
  cancelOnEscape(form, onCancel);
  setTimeout(() => modid.focus());
  return form;
}

/** Integers as typed; anything else goes to the server as is, which names the field. @param {string} text */
export function toInt(text) {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : t;
}

/**
 * The route page sends a deleted module here with ?deleted=M:C&version=V: say
 * what went, once (the query leaves the address, so a reload does not repeat it).
 * @param {import('../app.js').PageContext} ctx
 */
function deletedNotice(ctx) {
  const notice = messageLine();
  const deleted = ctx.query.get('deleted');
  if (deleted && /^-?\d+:-?\d+$/.test(deleted)) {
    const version = Number(ctx.query.get('version'));
    notice.notice(`Deleted module ${deleted} and its hosts${version > 0 ? ` — route version ${version}` : ''}; dns tells subscribed agents at once with notification on, else at its next poll.`);
    history.replaceState(null, '', '/modules');
  }
  return notice;
}

/** @type {import('../app.js').Page} */
export function modulesPage(root, ctx) {
  document.title = 'Modules · Lars console';
  let modules = /** @type {any[]} */ ([]);
  let now = 0;
  let loaded = false;
  let search = ctx.query.get('q') ?? '';
  let health = 'all';
  const message = messageLine();
  const summary = h('span', { class: 'muted' });
  // Only the health counts are redrawn on refresh: the search box keeps its focus.
  const healthFilter = h('div');
  const tbody = h('tbody');
  const formSlot = h('div');

  const hosts = hostSearch();
  const searchInput = h('input', {
    type: 'search',
    class: 'search',
    placeholder: 'Search modid:cmdid, description, or a host IP[:port]',
    value: search,
    'aria-label': 'Search modules',
    oninput: () => {
      search = searchInput.value.trim();
      draw();
      void hosts.update(search);
    },
  });

  const drawFilters = () => {
    const counts = { all: modules.length };
    for (const m of modules) counts[m.health.state] = (counts[m.health.state] ?? 0) + 1;
    const options = ['all', 'ok', 'degraded', 'down', 'stale', 'none']
      .filter((s) => s === 'all' || counts[s] || s === health)
      .map((s) => ({ value: s, label: `${s === 'all' ? 'All' : HEALTH_LABELS[s]} ${counts[s] ?? 0}` }));
    replace(healthFilter, segmented(options, health, (value) => {
      health = value;
      draw();
    }));
  };

  const draw = () => {
    const shown = modules.filter((m) => (health === 'all' || m.health.state === health) && matches(m, search));
    if (!loaded) return;
    if (modules.length === 0) {
      replace(tbody, h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'No modules yet. Add one here, or on the command line: lars module add MODID CMDID')));
      return;
    }
    if (shown.length === 0) {
      replace(tbody, h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'No module matches the search and filter.')));
      return;
    }
    replace(
      tbody,
      shown.map((m) => {
        const href = `/modules/${m.modid}/${m.cmdid}`;
        const { succ, err } = m.health;
        return h(
          'tr',
          { class: 'clickable', 'data-module': `${m.modid}:${m.cmdid}`, onclick: (/** @type {MouseEvent} */ e) => {
            if (!(e.target instanceof Element && e.target.closest('a'))) ctx.navigate(href);
          } },
          h('td', null, h('a', { href, class: 'mono strong' }, `${m.modid}:${m.cmdid}`)),
          h('td', { class: m.description ? '' : 'muted' }, m.description || '—'),
          h('td', { class: m.strategy ? 'strategy mono' : 'strategy muted' }, strategyLabel(m.strategy)),
          h('td', { class: 'num' }, fmtNumber(m.hosts)),
          h('td', null, healthBadge(m.health.state), m.health.reporting > 0 ? h('span', { class: 'muted small' }, ` ${m.health.reporting - m.health.overloaded}/${m.health.reporting} healthy`) : null),
          h('td', { class: 'num' }, succ + err > 0 ? h('span', null, fmtNumber(succ), h('span', { class: 'muted' }, ' / '), h('span', { class: err > 0 ? 'err-text' : '' }, fmtNumber(err)), h('span', { class: 'muted small' }, ` (${errorShare(succ, err)})`)) : h('span', { class: 'muted' }, '—')),
          h('td', null, timeCell(m.health.lastReportAt, now)),
        );
      }),
    );
  };

  const load = async () => {
    const data = await get('/modules');
    modules = data.modules;
    now = data.now;
    loaded = true;
    summary.textContent = `${modules.length} module${modules.length === 1 ? '' : 's'} · route version ${data.version}`;
    message.clear();
    drawFilters();
    draw();
  };

  const importer = ctx.isAdmin
    ? importControl({
        onImported: async (version, edits) => {
          await load();
          message.notice(`Imported: ${edits} edit${edits === 1 ? '' : 's'} in one transaction — route version ${version}; dns tells subscribed agents at once with notification on, else at its next poll.`);
        },
      })
    : null;

  const showForm = () => {
    replace(formSlot, addModuleForm(
      ctx,
      async () => {
        replace(formSlot);
        await load();
      },
      () => replace(formSlot),
    ));
  };

  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'Modules'), summary),
      h(
        'div',
        { class: 'head-actions' },
        h('a', { class: 'button ghost', href: '/api/v1/export?download=true', download: '', title: 'every module and configured host as one JSON document (lars export)' }, 'Export'),
        importer?.button,
        ctx.mayAddModules ? h('button', { type: 'button', class: 'button primary', text: 'Add module', onclick: showForm }) : null,
      ),
    ),
    formSlot,
    importer?.slot,
    hosts.el,
    deletedNotice(ctx).el,
    message.el,
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'filters' }, searchInput, healthFilter),
      h(
        'table',
        { class: 'table', id: 'modules-table' },
        h('thead', null, h('tr', null, h('th', null, 'Module'), h('th', null, 'Description'), h('th', null, 'Strategy'), h('th', { class: 'num' }, 'Hosts'), h('th', null, 'Health'), h('th', { class: 'num' }, LATEST_CALLS_HEADING), h('th', null, 'Last report'))),
        tbody,
      ),
    ),
  );
  replace(tbody, h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'Loading…')));
  drawFilters();
  void hosts.update(search);
  return poll(load, REFRESH_MS, (err) => message.error(err));
}
