// "Find a host everywhere": when the modules page's search holds an IPv4
// address (or address:port), the modules that serve it, configured or
// registered, from GET /api/v1/hosts (lars route find).
import { get } from '../api.js';
import { h, replace } from '../dom.js';
import { card, messageLine } from '../ui.js';

const ADDRESS = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/;

export function hostSearch() {
  const slot = h('div', { id: 'host-search' });
  /** The search the answer on screen belongs to: a slower, older answer is dropped. */
  let asked = '';

  /** @param {string} text */
  const update = async (text) => {
    const match = ADDRESS.exec(text);
    asked = text;
    if (!match) {
      replace(slot);
      return;
    }
    const [, ip, port] = match;
    const message = messageLine();
    let found;
    try {
      found = await get(`/hosts?ip=${encodeURIComponent(ip)}${port ? `&port=${port}` : ''}`);
    } catch (err) {
      if (asked !== text) return;
      message.error(err);
      replace(slot, card(`Host ${text}`, [], message.el));
      return;
    }
    if (asked !== text) return;
    const rows = found.hosts.map((/** @type {any} */ f) =>
      h(
        'tr',
        null,
        h('td', null, h('a', { class: 'mono', href: `/modules/${f.modid}/${f.cmdid}` }, `${f.modid}:${f.cmdid}`)),
        h('td', { class: 'mono' }, `${f.ip}:${f.port}`),
        h('td', { class: 'num' }, String(f.weight)),
        h('td', null, f.source === 'registered' ? 'registered' : 'configured'),
      ),
    );
    replace(
      slot,
      card(
        `Host ${text} in ${found.hosts.length} route${found.hosts.length === 1 ? '' : 's'}`,
        [],
        h(
          'table',
          { class: 'table', id: 'host-search-table' },
          h('thead', null, h('tr', null, h('th', null, 'Module'), h('th', null, 'Host'), h('th', { class: 'num' }, 'Weight'), h('th', null, 'Source'))),
          h('tbody', null, rows.length > 0 ? rows : h('tr', null, h('td', { colspan: 4, class: 'empty' }, `No route serves ${text}.`))),
        ),
      ),
    );
  };

  return { el: slot, update };
}
