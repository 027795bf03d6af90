// The Lars console in the browser: a shell (header, navigation, user) and a
// page per path, drawn from the JSON API. Links are followed without reloads.
import { ApiError, del, get, setCsrfToken, whenUnauthorized } from './api.js';
import { h, replace } from './dom.js';
import { mayChangeModule } from './grants.js';
import { changesPage } from './pages/changes.js';
import { connectedPage } from './pages/connected.js';
import { loginPage } from './pages/login.js';
import { modulesPage } from './pages/modules.js';
import { routePage } from './pages/route.js';
import { tokensPage } from './pages/tokens.js';
import { usersPage } from './pages/users.js';

/**
 * @typedef {{ name: string, role: 'admin' | 'editor' | 'viewer', grants: import('./grants.js').Grant[] }} User
 * @typedef {{ user: User, csrfToken: string }} Session
 * @typedef {{
 *   session: Session | null, params: string[], query: URLSearchParams,
 *   navigate: (path: string, options?: { replace?: boolean }) => void, login: (session: Session) => void,
 *   isAdmin: boolean,
 *   mayChange: (modid: number, cmdid: number) => boolean,
 *   mayAddModules: boolean,
 * }} PageContext
 * isAdmin: imports, every token, Users. mayChange: a module's edit controls (admins, editors granted it).
 * mayAddModules: the Add module form (admins, editors with a grant: the server checks the new module against them).
 * @typedef {(root: HTMLElement, ctx: PageContext) => (void | (() => void))} Page
 */

/** @type {{ pattern: RegExp, page: Page, nav?: string, public?: boolean }[]} */
const ROUTES = [
  { pattern: /^\/login$/, page: loginPage, public: true },
  { pattern: /^\/(modules)?$/, page: modulesPage, nav: '/modules' },
  { pattern: /^\/modules\/(-?\d+)\/(-?\d+)$/, page: routePage, nav: '/modules' },
  { pattern: /^\/changes$/, page: changesPage, nav: '/changes' },
  { pattern: /^\/tokens$/, page: tokensPage, nav: '/tokens' },
  { pattern: /^\/users$/, page: usersPage, nav: '/users' },
  { pattern: /^\/connected$/, page: connectedPage, nav: '/connected' },
];

const NAV = [
  { path: '/modules', label: 'Modules' },
  { path: '/changes', label: 'Changes' },
  { path: '/connected', label: 'Connected' },
  { path: '/tokens', label: 'API tokens' },
  { path: '/users', label: 'Users', adminOnly: true },
];

/** @type {Session | null} */
let session = null;
/** @type {(() => void) | null} */
let cleanup = null;

/** @param {string} path @param {{ replace?: boolean }} [options] */
function navigate(path, options = {}) {
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

/** @param {Session} next */
function login(next) {
  session = next;
  setCsrfToken(next.csrfToken);
}

function toLogin() {
  session = null;
  setCsrfToken('');
  const here = location.pathname + location.search;
  navigate(here.startsWith('/login') ? here : `/login?next=${encodeURIComponent(here)}`, { replace: true });
}

async function logout() {
  try {
    await del('/session');
  } catch (err) {
    // Already ended: the way to the login page is the same.
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
  }
  toLogin();
}

/** The pages this user may open: Users is for admins. */
function visibleNav() {
  return NAV.filter((item) => !item.adminOnly || session?.user.role === 'admin');
}

/** @param {string | undefined} active */
function header(active) {
  return h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'brand', href: '/modules' }, h('img', { src: '/assets/favicon.svg', alt: '', width: 22, height: 22 }), 'Lars console'),
    h(
      'nav',
      { class: 'nav' },
      visibleNav().map((item) => h('a', { href: item.path, class: item.path === active ? 'active' : '' }, item.label)),
      h('a', { href: '/api/v1/openapi.json', target: '_blank', rel: 'noopener', class: 'external' }, 'API'),
    ),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'user-name' }, session.user.name),
      h('span', { class: `badge role-${session.user.role}` }, session.user.role),
      h('button', { type: 'button', class: 'button ghost small', onclick: () => logout(), text: 'Log out' }),
    ),
  );
}

/** @param {HTMLElement} main @param {string} path */
function notFoundPage(main, path) {
  document.title = 'No such page · Lars console';
  main.append(
    h('h1', null, 'No such page'),
    h('p', null, 'There is no page at ', h('code', null, path), '. The console has these:'),
    h('ul', { class: 'page-list' }, visibleNav().map((item) => h('li', null, h('a', { href: item.path }, item.label)))),
  );
}

async function render() {
  cleanup?.();
  cleanup = null;
  const root = document.getElementById('app');
  const path = location.pathname;
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route) {
    // Inside the shell when logged in, so the navigation (and Log out) stay at hand.
    if (!session) {
      try {
        login(await get('/session'));
      } catch {
        // Not logged in: the page without the shell.
      }
    }
    const main = h('main', { class: 'page narrow' });
    replace(root, ...(session ? [header(undefined), main] : [main]));
    notFoundPage(main, path);
    return;
  }
  if (!route.public && !session) {
    try {
      login(await get('/session'));
    } catch {
      toLogin();
      return;
    }
  }
  /** @type {PageContext} */
  const ctx = {
    session,
    params: route.pattern.exec(path).slice(1),
    query: new URLSearchParams(location.search),
    navigate,
    login,
    isAdmin: session?.user.role === 'admin',
    mayChange: (modid, cmdid) => session !== null && mayChangeModule(session.user, modid, cmdid),
    mayAddModules: session?.user.role === 'admin' || (session?.user.role === 'editor' && session.user.grants.length > 0),
  };
  if (route.public) {
    replace(root);
    cleanup = route.page(root, ctx) || null;
    return;
  }
  const main = h('main', { class: 'page' });
  replace(root, header(route.nav), main);
  cleanup = route.page(main, ctx) || null;
}

document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a') : null;
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.origin !== location.origin || link.target || link.hasAttribute('download') || link.pathname.startsWith('/api/')) return;
  event.preventDefault();
  if (link.pathname + link.search !== location.pathname + location.search) navigate(link.pathname + link.search);
});
window.addEventListener('popstate', () => render());
whenUnauthorized(toLogin);
render();
