// The route page's module: its description and its strategy, which those who
// may change the module (admins, editors granted it) edit inline together
// (one PATCH, one route version).
import { patch } from '../api.js';
import { h, replace } from '../dom.js';
import { AGENT_DEFAULT, strategyLabel, strategySelect } from '../strategy.js';
import { cancelOnEscape, messageLine, showFormError } from '../ui.js';

/**
 * @param {{ base: string, mayEdit: boolean, onSaved: (version: number, what: string) => void }} options
 */
export function routeModule(options) {
  const el = h('div', { class: 'module-info' });
  /** The latest module: the server's at the last refresh, or what was just saved. */
  let module = { description: '', strategy: /** @type {string | null} */ (null) };
  let drawn = false;

  const draw = () => {
    const edit = options.mayEdit ? h('button', { type: 'button', class: 'button ghost small', text: 'Edit', onclick: startEditing }) : null;
    replace(
      el,
      h('span', { class: module.description ? 'description' : 'description muted' }, module.description || 'No description'),
      h('span', { class: 'pill strategy', title: 'the balancing strategy every agent runs for this route' }, `Strategy: ${strategyLabel(module.strategy)}`),
      edit,
    );
  };

  const startEditing = () => {
    const formMessage = messageLine();
    const input = h('input', { name: 'description', value: module.description, maxlength: 255, class: 'wide-input' });
    const strategy = strategySelect(module.strategy);
    const form = h(
      'form',
      { class: 'inline-edit', novalidate: true },
      input,
      strategy,
      h('button', { type: 'submit', class: 'button primary small', text: 'Save' }),
      h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: draw }),
      formMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const answer = await patch(options.base, { description: input.value, strategy: strategy.value });
        module = { description: input.value, strategy: strategy.value === AGENT_DEFAULT ? null : strategy.value };
        draw();
        options.onSaved(answer.version, 'Module saved');
      } catch (err) {
        showFormError(form, formMessage, err);
      }
    });
    cancelOnEscape(form, draw);
    replace(el, form);
    input.focus();
  };

  return {
    el,
    /**
     * Takes the module of each refresh; it is drawn on the first only, so a
     * refresh never closes the edit form.
     * @param {{ description: string, strategy: string | null }} next
     */
    update(next) {
      module = { description: next.description, strategy: next.strategy };
      if (drawn) return;
      drawn = true;
      draw();
    },
  };
}
