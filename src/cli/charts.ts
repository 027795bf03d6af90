/**
 * Small pictures for terminal output, where a row of numbers hides the
 * shape: a bar for a share (balance across hosts) and a sparkline for a
 * series (calls per second over time).
 */
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const LEVELS = '▁▂▃▄▅▆▇█';

/** A bar `width` cells long when full, drawn to an eighth of a cell; fraction is clamped to 0..1. */
export function bar(fraction: number, width: number): string {
  const eighths = Math.round(Math.min(1, Math.max(0, fraction)) * width * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/** One character per value, its height proportional to the value, from 0 to `top` (default: the largest). */
export function sparkline(values: readonly number[], top = Math.max(0, ...values)): string {
  if (top <= 0) return LEVELS[0]!.repeat(values.length);
  return values.map((v) => LEVELS[Math.min(LEVELS.length - 1, Math.max(0, Math.round((v / top) * (LEVELS.length - 1))))]).join('');
}
