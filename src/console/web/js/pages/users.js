// Console accounts, for admins: add one, change a role, grant an editor the
// modules it may change and take them back, reset a password (which ends
// that user's sessions), delete. The same rules as `lars user`: the last
// admin stays an admin, and nobody deletes their own account here.
// Below them the audit trail: sign-ins (failed ones too) and account changes.
import { ApiError, del, get, patch, post, put } from '../api.js';
import { h, replace, timeCell } from '../dom.js';
import { EVERY_CMDID, grantText, parseGrant } from '../grants.js';
import { cancelOnEscape, card, clearFormError, confirmButton, field, FORM_ERROR_EVENT, messageLine, showFormError } from '../ui.js';

const ROLES = ['viewer', 'editor', 'admin'];
const AUDIT_SHOWN = 50;
const AUDIT_LABELS = {
  login: 'signed in',
  login_failed: 'sign-in failed',
  login_throttled: 'sign-in throttled',
  logout: 'signed out',
  token_created: 'token created',
  token_revoked: 'token revoked',
  user_added: 'user added',
  user_role_changed: 'role changed',
  user_granted: 'module granted',
  user_ungranted: 'grant taken back',
  user_password_reset: 'password reset',
  user_disabled: 'user disabled',
  user_enabled: 'user enabled',
  user_deleted: 'user deleted',
  lars_imported: 'Lars database imported',
};

/** "an admin", "an editor", "a viewer". @param {string} role */
function withArticle(role) {
  return `${role === 'viewer' ? 'a' : 'an'} ${role}`;
}

/** @param {string} current */
function roleSelect(current) {
  return h('select', { name: 'role' }, ROLES.map((r) => h('option', { value: r, selected: r === current }, r)));
}

/** @type {import('../app.js').Page} */
export function usersPage(root, ctx) {
  document.title = 'Users · Lars console';
  const message = messageLine();
  const tbody = h('tbody');
  const auditBody = h('tbody');
  const me = ctx.session?.user.name;

  /** @param {any[]} events @param {number} now */
  const drawAudit = (events, now) =>
    replace(
      auditBody,
      events.length === 0
        ? h('tr', null, h('td', { colspan: 6, class: 'empty' }, 'Nothing recorded yet.'))
        : events.map((e) =>
            h(
              'tr',
              null,
              h('td', null, timeCell(e.at, now)),
              h('td', null, h('span', { class: `badge ${e.kind === 'login_failed' || e.kind === 'login_throttled' ? 'health-down' : 'health-none'}` }, AUDIT_LABELS[e.kind] ?? e.kind)),
              h('td', null, e.actor ?? h('span', { class: 'muted' }, '—')),
              h('td', null, e.subject ?? h('span', { class: 'muted' }, e.kind === 'login_failed' || e.kind === 'login_throttled' ? 'unknown name' : '—')),
              h('td', { class: 'mono small' }, e.address ?? '—'),
              h('td', { class: 'small' }, e.detail || '—'),
            ),
          ),
    );

  /** The inline form that resets one user's password. @param {any} user @param {HTMLElement} cell */
  const resetForm = (user, cell) => {
    const rowMessage = messageLine();
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: 'new password (8 or more)', 'aria-label': `new password for ${user.name}` });
    const form = h(
      'form',
      { class: 'inline-edit', novalidate: true },
      password,
      h('button', { type: 'submit', class: 'button primary small', text: 'Set password' }),
      h('button', { type: 'button', class: 'button ghost small', text: 'Cancel', onclick: () => load() }),
      rowMessage.el,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await patch(`/users/${encodeURIComponent(user.name)}`, { password: password.value });
        message.notice(`Password of ${user.name} reset; their console sessions were ended.`);
        await load();
      } catch (err) {
        showFormError(form, rowMessage, err);
      }
    });
    cancelOnEscape(form, () => load());
    replace(cell, form);
    password.focus();
  };

  /**
   * What the user may change: an editor's grants, each with its remove
   * button, and a field to grant one more; another role's grants are kept
   * but do nothing until it is an editor.
   * @param {any} user
   */
  const grantsCell = (user) => {
    const cell = h('td', { class: 'grants' });
    const path = (/** @type {import('../grants.js').Grant} */ grant) => `/users/${encodeURIComponent(user.name)}/grants/${grant.modid}/${grant.cmdid ?? EVERY_CMDID}`;
    const kept = user.grants.map(grantText).join(', ');
    if (user.role !== 'editor') {
      const none = h('span', { class: 'muted' }, user.role === 'admin' ? 'every module' : 'nothing (reads only)');
      replace(cell, none, kept ? h('span', { class: 'muted small', title: 'kept; they apply while the role is editor' }, ` · grants kept for editor: ${kept}`) : null);
      return cell;
    }
    const rowMessage = messageLine();
    const input = h('input', { name: 'grant', placeholder: 'M or M:C', size: 9, autocomplete: 'off', 'aria-label': `module to grant ${user.name}` });
    const form = h('form', { class: 'inline-edit grant-form', novalidate: true }, input, h('button', { type: 'submit', class: 'button ghost small', text: 'Grant' }), rowMessage.el);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const grant = parseGrant(input.value);
        await put(path(grant));
        message.notice(`${user.name} may change ${grantText(grant)} (from their next request).`);
        await load();
      } catch (err) {
        showFormError(form, rowMessage, err);
      }
    });
    const chips = user.grants.map((/** @type {import('../grants.js').Grant} */ grant) =>
      h(
        'span',
        { class: 'grant', 'data-grant': grantText(grant) },
        h('span', { class: 'mono' }, grantText(grant)),
        h('button', {
          type: 'button',
          class: 'remove',
          text: '×',
          'aria-label': `take ${grantText(grant)} back from ${user.name}`,
          title: `${user.name} may no longer change ${grantText(grant)}`,
          onclick: async () => {
            try {
              await del(path(grant));
              message.notice(`${user.name} may no longer change ${grantText(grant)}.`);
            } catch (err) {
              message.error(err);
            }
            await load();
          },
        }),
      ),
    );
    replace(cell, h('div', { class: 'grant-list' }, chips.length > 0 ? chips : h('span', { class: 'muted small' }, 'no module yet')), form);
    return cell;
  };

  /** @param {any} user @param {number} now */
  const row = (user, now) => {
    const role = roleSelect(user.role);
    role.setAttribute('aria-label', `role of ${user.name}`);
    role.addEventListener('change', async () => {
      try {
        await patch(`/users/${encodeURIComponent(user.name)}`, { role: role.value });
        message.notice(`${user.name} is now ${withArticle(role.value)} (from their next request).`);
      } catch (err) {
        message.error(err);
      }
      await load();
    });
    const actions = h('td', { class: 'actions' });
    replace(
      actions,
      h('button', { type: 'button', class: 'button ghost small', text: 'Reset password', onclick: () => resetForm(user, actions) }),
      user.name === me
        ? null
        : h('button', {
            type: 'button',
            class: 'button ghost small',
            text: user.disabled ? 'Enable' : 'Disable',
            title: user.disabled ? `let ${user.name} sign in again` : `${user.name} cannot sign in; their sessions end and their tokens are refused`,
            onclick: async () => {
              try {
                await patch(`/users/${encodeURIComponent(user.name)}`, { disabled: !user.disabled });
                message.notice(user.disabled ? `Enabled ${user.name}.` : `Disabled ${user.name}: their sessions were ended and their tokens are refused.`);
              } catch (err) {
                message.error(err);
              }
              await load();
            },
          }),
      user.name === me
        ? null
        : confirmButton('Delete', 'Confirm delete', async () => {
            try {
              await del(`/users/${encodeURIComponent(user.name)}`);
              message.notice(`Deleted ${user.name} with their sessions and API tokens.`);
              await load();
            } catch (err) {
              message.error(err);
            }
          }),
    );
    return h(
      'tr',
      { 'data-user': user.name },
      h('td', { class: 'strong' }, user.name, user.name === me ? h('span', { class: 'muted small' }, ' (you)') : null, user.disabled ? h('span', { class: 'badge health-none' }, 'disabled') : null),
      h('td', null, role),
      grantsCell(user),
      h('td', null, timeCell(user.createdAt, now)),
      h('td', null, timeCell(user.updatedAt, now)),
      actions,
    );
  };

  const load = async () => {
    try {
      const [{ users }, { events }] = await Promise.all([get('/users'), get(`/audit?limit=${AUDIT_SHOWN}`)]);
      const now = Math.floor(Date.now() / 1000);
      replace(tbody, users.map((/** @type {any} */ u) => row(u, now)));
      drawAudit(events, now);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) {
        replace(root, h('h1', null, 'Users'), h('p', null, 'Only admins manage users. Ask one, or use ', h('code', null, 'lars user'), ' on the store.'));
        return;
      }
      message.error(err);
    }
  };

  const formMessage = messageLine();
  const name = h('input', { name: 'username', placeholder: 'e.g. alice', maxlength: 64, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: '8 or more characters' });
  const newRole = roleSelect('viewer');
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true },
    h('div', { class: 'form-row' }, field('Name', name), field('Role', newRole), field('Password', password), h('button', { type: 'submit', class: 'button primary', text: 'Add user' })),
    formMessage.el,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const user = await post('/users', { username: name.value.trim(), role: newRole.value, password: password.value });
      clearFormError(form, formMessage);
      name.value = '';
      password.value = '';
      message.notice(`Added ${user.name} (${user.role}).`);
      await load();
    } catch (err) {
      showFormError(form, formMessage, err);
    }
  });

  root.append(
    h('div', { class: 'page-head' }, h('div', null, h('h1', null, 'Users'), h('span', { class: 'muted' }, 'console accounts; lars user does the same from the command line'))),
    message.el,
    card('Add a user', [], form),
    card(
      'Accounts',
      [],
      h('table', { class: 'table', id: 'users-table' }, h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Role'), h('th', null, 'May change'), h('th', null, 'Created'), h('th', null, 'Changed'), h('th', null, ''))), tbody),
    ),
    card(
      'Audit trail',
      [h('span', { class: 'muted small' }, `the latest ${AUDIT_SHOWN}; GET /api/v1/audit pages further`)],
      h(
        'table',
        { class: 'table', id: 'audit-table' },
        h('thead', null, h('tr', null, h('th', null, 'When'), h('th', null, 'What'), h('th', null, 'Who'), h('th', null, 'Account'), h('th', null, 'From'), h('th', null, 'Detail'))),
        auditBody,
      ),
    ),
  );
  root.addEventListener(FORM_ERROR_EVENT, () => message.clear());
  void load();
}
