/**
 * What an editor may change (docs/console.md, "Roles"): each grant names one
 * module (modid:cmdid) or every cmdid of a modid (cmdid null, written M:*).
 * The console asks mayChangeModule before any edit of a module's routes or
 * settings; the Users store keeps the grants (migration 0012).
 */
import { ValidationError } from './errors.js';
import { checkModuleKey, LIMITS, type ModuleKey } from './validate.js';

export interface Grant {
  modid: number;
  /** null: every cmdid of the modid. */
  cmdid: number | null;
}

/** How a grant of every cmdid is written: `7:*`. */
export const EVERY_CMDID = '*';

/** A grant as given (cmdid absent or null: every cmdid); a ValidationError names modid or cmdid. */
export function checkGrant(input: { modid: unknown; cmdid?: unknown }): Grant {
  const every = input.cmdid === undefined || input.cmdid === null;
  const key = checkModuleKey({ modid: input.modid, cmdid: every ? 0 : input.cmdid });
  return { modid: key.modid, cmdid: every ? null : key.cmdid };
}

/** `7:*` or `8:1`. */
export function grantText(grant: Grant): string {
  return `${grant.modid}:${grant.cmdid ?? EVERY_CMDID}`;
}

/** By modid, a modid's every-cmdid grant before its single ones, then by cmdid. */
export function compareGrants(a: Grant, b: Grant): number {
  const cmdidRank = (grant: Grant) => grant.cmdid ?? LIMITS.idMin - 1;
  return a.modid - b.modid || cmdidRank(a) - cmdidRank(b);
}

export function grantCovers(grant: Grant, module: ModuleKey): boolean {
  return grant.modid === module.modid && (grant.cmdid === null || grant.cmdid === module.cmdid);
}

/** Admins change every module, editors the ones their grants cover, viewers none. */
export function mayChangeModule(user: { role: string; grants: readonly Grant[] }, module: ModuleKey): boolean {
  if (user.role === 'admin') return true;
  return user.role === 'editor' && user.grants.some((grant) => grantCovers(grant, module));
}

/** A grant named in text: `7`, `7:*` or `7:1` (decimal, no leading zeros, as the CLI's numbers); a ValidationError (field grant) says how to write one. */
export function parseGrant(text: string): Grant {
  const match = /^(-?(?:0|[1-9]\d*))(?::(\*|-?(?:0|[1-9]\d*)))?$/.exec(text.trim());
  if (!match) throw new ValidationError('grant', `must be MODID (every cmdid), MODID:${EVERY_CMDID} or MODID:CMDID, such as 7 or 7:1; got ${JSON.stringify(text)}`);
  const [, modid, cmdid] = match;
  return checkGrant({ modid: Number(modid), cmdid: cmdid === undefined || cmdid === EVERY_CMDID ? null : Number(cmdid) });
}
