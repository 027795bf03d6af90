// Import on the modules page: read a JSON document (lars export's), show the
// edits the server plans for it (a dry run), and apply them on confirmation:
// one transaction, checked whole first (docs/store.md, "Export and import").
import { post } from '../api.js';
import { h, replace } from '../dom.js';
import { card, messageLine } from '../ui.js';
import { editPlanCard } from './edit-plan.js';

/**
 * A button that opens a file, and the card where the plan is shown.
 * @param {{ onImported: (version: number, edits: number) => void }} options
 */
export function importControl(options) {
  const slot = h('div');
  const file = h('input', { type: 'file', accept: 'application/json,.json', name: 'import-file', class: 'visually-hidden', 'aria-label': 'JSON document to import' });
  const button = h('button', { type: 'button', class: 'button ghost', text: 'Import…', onclick: () => file.click() });

  const close = () => {
    replace(slot);
    file.value = '';
  };

  /** @param {string} name @param {unknown} document @param {boolean} prune @param {any} plan */
  const showPlan = (name, document, prune, plan) => {
    const pruneBox = h('input', { type: 'checkbox', name: 'prune', checked: prune });
    pruneBox.addEventListener('change', () => planFor(name, document, pruneBox.checked));
    replace(
      slot,
      editPlanCard({
        title: `Import ${name}`,
        id: 'import-plan',
        edits: plan.edits,
        note: 'Checked whole; nothing is written until you apply, and then all of it in one transaction.',
        extra: h('label', { class: 'card-note small' }, pruneBox, ' also remove hosts of these modules that the document does not list'),
        onCancel: close,
        onApply: async () => {
          const done = await post(`/import${pruneBox.checked ? '?prune=true' : ''}`, document);
          close();
          options.onImported(done.version, done.edits.length);
        },
      }),
    );
  };

  /** A dry run of the document; its answer is the plan. @param {string} name @param {unknown} document @param {boolean} prune */
  const planFor = async (name, document, prune) => {
    const message = messageLine();
    try {
      showPlan(name, document, prune, await post(`/import?dryRun=true${prune ? '&prune=true' : ''}`, document));
    } catch (err) {
      message.error(err);
      replace(slot, card(`Import ${name}`, [h('button', { type: 'button', class: 'button ghost small', text: 'Close', onclick: close })], message.el));
    }
  };

  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    let document;
    try {
      document = JSON.parse(await chosen.text());
    } catch (err) {
      const message = messageLine();
      message.error(`${chosen.name} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      replace(slot, card(`Import ${chosen.name}`, [h('button', { type: 'button', class: 'button ghost small', text: 'Close', onclick: close })], message.el));
      return;
    }
    await planFor(chosen.name, document, false);
  });

  return { button: h('span', null, button, file), slot };
}
