// A module's balancing strategy in the pages: the names come from the server
// (GET /strategies, asked once per page load), never from a list kept here.
import { get } from './api.js';
import { h } from './dom.js';

/** What the API takes for "no strategy of its own": each agent runs its [loadbalance] strategy. */
export const AGENT_DEFAULT = 'default';

/** @type {Promise<string[]> | null} */
let names = null;

/** How a module's strategy reads on a page. @param {string | null} strategy */
export function strategyLabel(strategy) {
  return strategy ?? 'agent default';
}

/**
 * A select of "agent default" and every strategy, showing `current` (null: the
 * agent default) once the names are in. Its value is what the API takes.
 * @param {string | null} current
 */
export function strategySelect(current) {
  const select = h('select', { name: 'strategy', 'aria-label': 'Strategy', title: 'the balancing strategy every agent runs for this route' }, h('option', { value: AGENT_DEFAULT, text: strategyLabel(null) }));
  names ??= get('/strategies').then((answer) => answer.strategies);
  // Should the names not come, the select offers the agent default alone, and the page's other requests say why.
  names.then(
    (list) => {
      select.append(...list.map((name) => h('option', { value: name, text: name })));
      select.value = current ?? AGENT_DEFAULT;
    },
    () => {},
  );
  return select;
}
