// Small pieces every page uses: cards, buttons, segmented choices, messages,
// form errors that point at the field, a two-step delete button, polling.
import { h, replace } from './dom.js';

/** @param {string} title @param {any[]} actions @param {...any} body */
export function card(title, actions, ...body) {
  return h(
    'section',
    { class: 'card' },
    h('header', { class: 'card-head' }, h('h2', null, title), h('div', { class: 'card-actions' }, ...actions)),
    ...body,
  );
}

/**
 * Buttons for one of several values; calls onChange with the chosen value.
 * @param {{ value: string, label: string }[]} options @param {string} current @param {(value: string) => void} onChange
 */
export function segmented(options, current, onChange) {
  const group = h('div', { class: 'segmented', role: 'group' });
  const draw = (/** @type {string} */ value) =>
    replace(
      group,
      options.map((o) =>
        h('button', {
          type: 'button',
          class: o.value === value ? 'active' : '',
          'aria-pressed': String(o.value === value),
          'data-value': o.value,
          text: o.label,
          onclick: () => {
            draw(o.value);
            onChange(o.value);
          },
        }),
      ),
    );
  draw(current);
  return group;
}

/** A message line that can show an error or a notice, or nothing. */
export function messageLine() {
  const el = h('p', { class: 'message', role: 'status', hidden: true });
  return {
    el,
    /** @param {unknown} err */
    error(err) {
      el.className = 'message error';
      el.textContent = err instanceof Error ? err.message : String(err);
      el.hidden = false;
    },
    /** @param {string} text */
    notice(text) {
      el.className = 'message notice';
      el.textContent = text;
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
    },
  };
}

/**
 * Shows an API error on a form: the named field is marked and focused.
 * @param {HTMLElement} form @param {ReturnType<typeof messageLine>} message @param {any} err
 */
export function showFormError(form, message, err) {
  clearFormError(form, message);
  message.error(err);
  const input = err?.field ? form.querySelector(`[name="${CSS.escape(err.field)}"]`) : null;
  if (input instanceof HTMLElement) {
    input.classList.add('invalid');
    input.focus();
  }
  // The page's own banner (an earlier success) must not stand beside this error.
  form.dispatchEvent(new CustomEvent(FORM_ERROR_EVENT, { bubbles: true }));
}

/** Bubbles from a form that shows an error; a page listens to clear its banner. */
export const FORM_ERROR_EVENT = 'lars-form-error';

/**
 * Undoes showFormError once the form succeeded: no red border, no message.
 * @param {HTMLElement} form @param {ReturnType<typeof messageLine>} message
 */
export function clearFormError(form, message) {
  for (const input of form.querySelectorAll('.invalid')) input.classList.remove('invalid');
  message.clear();
}

/**
 * Escape in any of the form's fields cancels it, as the Cancel button does: every inline editor behaves alike.
 * @param {HTMLElement} form @param {() => void} cancel
 */
export function cancelOnEscape(form, cancel) {
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    cancel();
  });
}

/**
 * A button that asks once more before acting: the first click arms it for a few seconds.
 * @param {string} label @param {string} armedLabel @param {() => Promise<void>} action
 */
export function confirmButton(label, armedLabel, action) {
  let timer = 0;
  const button = h('button', { type: 'button', class: 'button danger small', text: label });
  button.addEventListener('click', async () => {
    if (!button.classList.contains('armed')) {
      button.classList.add('armed');
      button.textContent = armedLabel;
      timer = window.setTimeout(() => {
        button.classList.remove('armed');
        button.textContent = label;
      }, 4000);
      return;
    }
    window.clearTimeout(timer);
    button.classList.remove('armed');
    button.textContent = label;
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/**
 * Runs task now and every intervalMs while the tab is visible; returns stop().
 * A failed run is reported to onError and the polling goes on.
 * @param {() => Promise<void>} task @param {number} intervalMs @param {(err: unknown) => void} [onError]
 */
export function poll(task, intervalMs, onError = () => {}) {
  let stopped = false;
  let timer = 0;
  const run = async () => {
    if (stopped) return;
    if (document.visibilityState === 'visible') {
      try {
        await task();
      } catch (err) {
        onError(err);
      }
    }
    if (!stopped) timer = window.setTimeout(run, intervalMs);
  };
  run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

/** @param {string} label @param {HTMLElement} input */
export function field(label, input) {
  return h('label', { class: 'field' }, h('span', null, label), input);
}
