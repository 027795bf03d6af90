// The route change log: who changed what and when, newest first, with a
// filter and paging to older changes; those who may change a module (admins,
// editors granted it) put it back as a change left it (the diff first, then
// one transaction).
import { get, post } from '../api.js';
import { fmtTime, h, replace, timeCell } from '../dom.js';
import { messageLine } from '../ui.js';
import { editPlanCard } from './edit-plan.js';

const PAGE = 100;
const ACTIONS = {
  add: 'host added',
  update: 'weight changed',
  del: 'host removed',
  'module-add': 'module added',
  'module-update': 'module changed',
  'module-del': 'module removed',
  register: 'instance registered',
  deregister: 'instance deregistered',
  expire: 'instance expired',
  drain: 'drained',
  undrain: 'undrained',
};

/** @param {any} c @param {string} text */
function matches(c, text) {
  if (!text) return true;
  const needle = text.toLowerCase();
  return [`${c.modid}:${c.cmdid}`, c.actor ?? '', c.detail, ACTIONS[c.action] ?? c.action, String(c.version)].some((s) => s.toLowerCase().includes(needle));
}

/** @type {import('../app.js').Page} */
export function changesPage(root, ctx) {
  document.title = 'Changes · Lars console';
  const message = messageLine();
  const tbody = h('tbody');
  const summary = h('span', { class: 'muted' });
  const more = h('button', { type: 'button', class: 'button ghost', text: 'Load older changes', hidden: true });
  const planSlot = h('div');

  /** The diff of putting c's module back as c left it, with Apply. @param {any} c */
  const showRevert = async (c) => {
    const path = `/modules/${c.modid}/${c.cmdid}/revert`;
    try {
      const plan = await post(path, { version: c.version, dryRun: true });
      replace(
        planSlot,
        editPlanCard({
          title: `Revert ${c.modid}:${c.cmdid} to version ${plan.revertedTo}`,
          id: 'revert-plan',
          edits: plan.edits,
          note: 'The module as this change left it: description, strategy and configured hosts (registered instances are the servers\' own). Nothing is written until you apply.',
          onCancel: () => replace(planSlot),
          onApply: async () => {
            const done = await post(path, { version: c.version });
            replace(planSlot);
            message.notice(`Module ${c.modid}:${c.cmdid} is back to version ${done.revertedTo}: ${done.edits.length} edit${done.edits.length === 1 ? '' : 's'}, route version ${done.version}.`);
            await load();
          },
        }),
      );
      planSlot.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      message.error(err);
    }
  };
  /** @type {any[]} */
  let changes = [];
  let now = Math.floor(Date.now() / 1000);
  let filter = ctx.query.get('q') ?? '';

  const search = h('input', {
    type: 'search',
    class: 'search',
    placeholder: 'Filter by module, user, action or detail',
    value: filter,
    'aria-label': 'Filter changes',
    oninput: () => {
      filter = search.value.trim();
      draw();
    },
  });

  const draw = () => {
    const shown = changes.filter((c) => matches(c, filter));
    replace(
      tbody,
      shown.length === 0
        ? h('tr', null, h('td', { colspan: 7, class: 'empty' }, changes.length === 0 ? 'No changes recorded yet.' : 'No change matches the filter.'))
        : shown.map((c) =>
            h(
              'tr',
              null,
              h('td', { class: 'num mono' }, String(c.version)),
              h('td', { title: fmtTime(c.changedAt) }, timeCell(c.changedAt, now)),
              h('td', null, c.actor ?? h('span', { class: 'muted' }, 'unknown')),
              h('td', null, c.action === 'module-del' ? h('span', { class: 'mono' }, `${c.modid}:${c.cmdid}`) : h('a', { class: 'mono', href: `/modules/${c.modid}/${c.cmdid}` }, `${c.modid}:${c.cmdid}`)),
              h('td', null, h('span', { class: `badge action-${c.action}` }, ACTIONS[c.action] ?? c.action)),
              h('td', { class: 'mono small' }, c.detail || '—'),
              h(
                'td',
                { class: 'actions' },
                ctx.mayChange(c.modid, c.cmdid) && c.revertible
                  ? h('button', { type: 'button', class: 'button ghost small', text: 'Revert to here', title: `put ${c.modid}:${c.cmdid} back as this change left it`, onclick: () => showRevert(c) })
                  : null,
              ),
            ),
          ),
    );
  };

  /** @param {number} [before] */
  const load = async (before) => {
    try {
      const data = await get(`/changes?limit=${PAGE}${before ? `&before=${before}` : ''}`);
      now = Math.floor(Date.now() / 1000);
      changes = before ? [...changes, ...data.changes] : data.changes;
      summary.textContent = `route version ${data.version}`;
      more.hidden = data.changes.length < PAGE;
      draw();
    } catch (err) {
      message.error(err);
    }
  };
  more.addEventListener('click', () => load(changes[changes.length - 1]?.version));

  root.append(
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Changes'), summary)),
    message.el,
    planSlot,
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'filters' }, search),
      h(
        'table',
        { class: 'table', id: 'changes-table' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Version'), h('th', null, 'When'), h('th', null, 'Who'), h('th', null, 'Module'), h('th', null, 'What'), h('th', null, 'Detail'), h('th', null, ''))),
        tbody,
      ),
      h('div', { class: 'card-foot' }, more),
    ),
  );
  replace(tbody, h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'Loading…')));
  load();
}
