/**
 * One SVG chart per scenario (docs/simulator.md): each host's share of the
 * calls over time, a panel per host, a line per strategy, the host's fair
 * share as a dashed rule. Drawn by Vega-Lite, rendered without a browser.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ScenarioResult } from './quality.js';

const PANEL_WIDTH = 640;
const PANEL_HEIGHT = 90;

export function chartSpec({ scenario, shares }: ScenarioResult): TopLevelSpec {
  const weightSum = scenario.hosts.reduce((sum, h) => sum + h.weight, 0);
  const fair = scenario.hosts.map((h) => ({ host: h.name, fair: h.weight / weightSum }));
  return {
    title: { text: `${scenario.name}: share of calls per host`, subtitle: scenario.description },
    data: { values: shares },
    transform: [{ lookup: 'host', from: { data: { values: fair }, key: 'host', fields: ['fair'] } }],
    facet: { row: { field: 'host', type: 'nominal', title: null, sort: scenario.hosts.map((h) => h.name) } },
    spec: {
      width: PANEL_WIDTH,
      height: PANEL_HEIGHT,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.2, interpolate: 'step-after' },
          encoding: {
            x: { field: 't', type: 'quantitative', title: 'simulated seconds' },
            y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
            color: { field: 'strategy', type: 'nominal', title: 'strategy' },
          },
        },
        {
          mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' },
          encoding: { y: { aggregate: 'max', field: 'fair', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export async function renderChart(result: ScenarioResult): Promise<string> {
  const view = new vega.View(vega.parse(compile(chartSpec(result)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
