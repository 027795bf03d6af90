// The edits a server plans before it writes (an import's or a revert's dry
// run), shown as a card with one Apply button: nothing is written until then,
// and then all of it in one transaction (docs/store.md).
import { h } from '../dom.js';
import { card, messageLine } from '../ui.js';

/**
 * @param {{ title: string, edits: any[], note: string, onApply: () => Promise<void>, onCancel: () => void, extra?: any, id?: string }} options
 */
export function editPlanCard(options) {
  const message = messageLine();
  const { edits } = options;
  const rows = edits.map((e) => h('tr', null, h('td', { class: 'mono' }, e.action), h('td', { class: 'mono' }, `${e.modid}:${e.cmdid}`), h('td', null, e.detail)));
  const apply = h('button', {
    type: 'button',
    class: 'button primary',
    text: edits.length === 0 ? 'Nothing to apply' : `Apply ${edits.length} edit${edits.length === 1 ? '' : 's'}`,
    disabled: edits.length === 0,
    onclick: async () => {
      try {
        await options.onApply();
      } catch (err) {
        message.error(err);
      }
    },
  });
  return card(
    options.title,
    [h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: options.onCancel })],
    h('p', { class: 'muted small card-note' }, edits.length === 0 ? 'Nothing would change.' : options.note),
    options.extra ?? null,
    h('table', { class: 'table', id: options.id ?? 'edit-plan' }, h('thead', null, h('tr', null, h('th', null, 'Edit'), h('th', null, 'Module'), h('th', null, 'Detail'))), h('tbody', null, rows)),
    h('div', { class: 'card-note form-actions' }, apply),
    message.el,
  );
}
