// API tokens for scripts: create one (its secret is shown once), see and
// revoke them. Admins see everyone's tokens.
import { del, get, post } from '../api.js';
import { fmtTime, h, replace, timeCell } from '../dom.js';
import { card, clearFormError, confirmButton, field, messageLine, showFormError } from '../ui.js';

/** Lifetimes offered for a new token: days, or "" for until revoked. */
const EXPIRY_CHOICES = [
  ['7', 'in 7 days'],
  ['30', 'in 30 days'],
  ['90', 'in 90 days'],
  ['365', 'in a year'],
  ['', 'never (until revoked)'],
];

/** @param {any} t @param {number} now */
function tokenState(t, now) {
  if (t.revokedAt !== null) return h('span', { class: 'badge health-none' }, 'revoked');
  if (t.expiresAt !== null && t.expiresAt <= now) return h('span', { class: 'badge health-none' }, 'expired');
  return h('span', { class: 'badge health-ok' }, 'active');
}

/** @type {import('../app.js').Page} */
export function tokensPage(root, ctx) {
  document.title = 'API tokens · Lars console';
  const message = messageLine();
  const tbody = h('tbody');
  const revealSlot = h('div');

  const draw = (/** @type {any[]} */ tokens) => {
    const now = Math.floor(Date.now() / 1000);
    replace(
      tbody,
      tokens.length === 0
        ? h('tr', null, h('td', { colspan: 7, class: 'empty' }, 'No tokens yet.'))
        : tokens.map((t) =>
            h(
              'tr',
              null,
              h('td', { class: 'strong' }, t.name),
              h('td', null, t.user),
              h('td', null, timeCell(t.createdAt, now)),
              h('td', null, t.scope === 'read' ? 'read only' : 'full'),
              h('td', null, t.expiresAt === null ? h('span', { class: 'muted' }, 'never') : h('span', { title: fmtTime(t.expiresAt) }, fmtTime(t.expiresAt))),
              h('td', null, tokenState(t, now)),
              h(
                'td',
                { class: 'actions' },
                t.revokedAt === null && (t.expiresAt === null || t.expiresAt > now)
                  ? confirmButton('Revoke', 'Confirm revoke', async () => {
                      try {
                        await del(`/tokens/${t.id}`);
                        await load();
                      } catch (err) {
                        message.error(err);
                      }
                    })
                  : null,
              ),
            ),
          ),
    );
  };

  const load = async () => {
    try {
      draw((await get('/tokens')).tokens);
    } catch (err) {
      message.error(err);
    }
  };

  /** @param {string} token */
  const reveal = (token) => {
    const code = h('code', { class: 'secret' }, token);
    const copy = h('button', {
      type: 'button',
      class: 'button ghost small',
      text: 'Copy',
      onclick: async () => {
        await navigator.clipboard?.writeText(token);
        copy.textContent = 'Copied';
      },
    });
    replace(
      revealSlot,
      h(
        'div',
        { class: 'reveal' },
        h('p', null, h('b', null, 'Copy this token now: '), 'it is shown only once. Use it as ', h('code', null, 'Authorization: Bearer <token>'), '.'),
        h('div', { class: 'secret-row' }, code, copy),
      ),
    );
  };

  const formMessage = messageLine();
  const name = h('input', { name: 'name', placeholder: 'e.g. deploy script', maxlength: 64, required: true });
  const expiry = h('select', { name: 'expiresInDays' }, EXPIRY_CHOICES.map(([value, label]) => h('option', { value, selected: value === '90' }, label)));
  const scope = h('select', { name: 'scope' }, h('option', { value: 'full' }, 'full (your role)'), h('option', { value: 'read' }, 'read only'));
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true },
    h(
      'div',
      { class: 'form-row' },
      h('div', { class: 'grow' }, field('Token name', name)),
      field('Expires', expiry),
      field('Scope', scope),
      h('button', { type: 'submit', class: 'button primary', text: 'Create token' }),
    ),
    formMessage.el,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const created = await post('/tokens', { name: name.value.trim(), expiresInDays: expiry.value === '' ? null : Number(expiry.value), scope: scope.value });
      clearFormError(form, formMessage);
      name.value = '';
      reveal(created.token);
      await load();
    } catch (err) {
      showFormError(form, formMessage, err);
    }
  });

  root.append(
    h(
      'div',
      { class: 'page-head' },
      h('div', null, h('h1', null, 'API tokens'), h('span', { class: 'muted' }, `Scripts send a token as Authorization: Bearer and act as its user (you: ${ctx.session.user.name}, role ${ctx.session.user.role}). Revoke a token when its script no longer needs it.`)),
    ),
    message.el,
    card('New token', [], form, revealSlot),
    card(
      ctx.isAdmin ? 'All tokens' : 'Your tokens',
      [],
      h(
        'table',
        { class: 'table', id: 'tokens-table' },
        h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'User'), h('th', null, 'Created'), h('th', null, 'Scope'), h('th', null, 'Expires'), h('th', null, 'State'), h('th', null, ''))),
        tbody,
      ),
    ),
  );
  load();
}
