/**
 * Service-port authentication by shared token (docs/reactor.md,
 * "Authentication"). A service holds the tokens it accepts (several, so one
 * can be rolled without downtime); a client sends its one token as the first
 * frame (AuthRequest, id 110). Tokens are compared as SHA-256 digests in
 * constant time, every accepted token checked, so timing tells nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** "a, b" -> ["a", "b"]: the config form of several tokens. */
export function parseTokens(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

export class TokenCheck {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  /** False when no token is configured: authentication is off. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  accepts(token: string): boolean {
    const given = digest(token);
    let accepted = false;
    for (const d of this.digests) accepted = timingSafeEqual(d, given) || accepted;
    return accepted;
  }
}
