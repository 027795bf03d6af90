// The route page's module description, which admins edit inline.
import { patch } from '../api.js';
import { h, replace } from '../dom.js';
import { messageLine, showFormError } from '../ui.js';

/**
 * @param {{ base: string, isAdmin: boolean, onSaved: (version: number, what: string) => void }} options
 */
export function routeDescription(options) {
  const el = h('div', { class: 'description' });
  /** The latest description: the server's at the last refresh, or the one just saved. */
  let text = '';
  let drawn = false;

  const draw = () => {
    const edit = options.isAdmin ? h('button', { type: 'button', class: 'button ghost small', text: 'Edit', onclick: startEditing }) : null;
    replace(el, h('span', { class: text ? '' : 'muted' }, text || 'No description'), ' ', edit);
  };

  const startEditing = () => {
    const formMessage = messageLine();
    const input = h('input', { name: 'description', value: text, maxlength: 255, class: 'wide-input' });
    const form = h(
      'form',
      { class: 'inline-edit', novalidate: true },
      input,
      h('button', { type: 'submit', class: 'button primary small', text: 'Save' }),
      h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: draw }),
      formMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const answer = await patch(options.base, { description: input.value });
        text = input.value;
        draw();
        options.onSaved(answer.version, 'Description saved');
      } catch (err) {
        showFormError(form, formMessage, err);
      }
    });
    replace(el, form);
    input.focus();
  };

  return {
    el,
    /**
     * Takes the description of each refresh; it is drawn on the first only, so
     * a refresh never closes the edit form.
     * @param {string} description
     */
    update(description) {
      text = description;
      if (drawn) return;
      drawn = true;
      draw();
    },
  };
}
