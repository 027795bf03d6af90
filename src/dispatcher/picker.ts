/**
 * Least-connections choice with a round-robin tie-break: the lowest load
 * wins; among equal loads the first id after the previous choice wins
 * (wrapping), so a burst onto idle workers rotates instead of piling onto the
 * lowest id.
 */

export interface Candidate {
  readonly id: number;
  readonly load: number;
}

export class LeastConnectionsPicker {
  private lastId = -1;

  pick(candidates: Iterable<Candidate>): number | undefined {
    let best: Candidate | undefined;
    let bestWraps = false;
    for (const candidate of candidates) {
      const wraps = candidate.id <= this.lastId;
      if (
        !best ||
        candidate.load < best.load ||
        (candidate.load === best.load && (bestWraps !== wraps ? !wraps : candidate.id < best.id))
      ) {
        best = candidate;
        bestWraps = wraps;
      }
    }
    if (best) this.lastId = best.id;
    return best?.id;
  }
}
