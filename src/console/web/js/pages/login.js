// The login form. The session cookie is set by the answer; the CSRF token
// in it is kept in memory for the requests that change something.
import { post } from '../api.js';
import { h } from '../dom.js';
import { field, messageLine, showFormError } from '../ui.js';

/** Only a path on this site may be the destination (never another origin). @param {string | null} next */
function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/modules';
}

/** @type {import('../app.js').Page} */
export function loginPage(root, ctx) {
  document.title = 'Log in · Lars console';
  const message = messageLine();
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'button primary wide', text: 'Log in' });
  const form = h(
    'form',
    { class: 'login-form', novalidate: true },
    field('User name', username),
    field('Password', password),
    message.el,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.clear();
    submit.disabled = true;
    try {
      const session = await post('/session', { username: username.value, password: password.value });
      ctx.login(session);
      ctx.navigate(safeNext(ctx.query.get('next')), { replace: true });
    } catch (err) {
      showFormError(form, message, err);
      password.value = '';
    } finally {
      submit.disabled = false;
    }
  });
  root.append(
    h(
      'div',
      { class: 'login-screen' },
      h(
        'div',
        { class: 'login-card' },
        h('div', { class: 'login-brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 40, height: 40 }), h('h1', null, 'Lars console')),
        h('p', { class: 'muted' }, 'Service routes, hosts and call status.'),
        form,
      ),
    ),
  );
  username.focus();
}
