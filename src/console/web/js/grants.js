// What an editor may change (docs/console.md, "Roles"): the grants the
// session comes with decide which modules show edit controls. The server
// decides again on every edit; this only keeps away buttons that would be refused.

/** @typedef {{ modid: number, cmdid: number | null }} Grant */

/** The API's word for every cmdid of a modid. */
export const EVERY_CMDID = '*';

/** "7:*" or "8:1". @param {Grant} grant */
export function grantText(grant) {
  return `${grant.modid}:${grant.cmdid ?? EVERY_CMDID}`;
}

/**
 * Admins change every module, editors the ones their grants cover, viewers none.
 * @param {{ role: string, grants: Grant[] }} user @param {number} modid @param {number} cmdid
 */
export function mayChangeModule(user, modid, cmdid) {
  if (user.role === 'admin') return true;
  return user.role === 'editor' && user.grants.some((g) => g.modid === modid && (g.cmdid === null || g.cmdid === cmdid));
}

/** A grant typed wrongly; `field` marks the input as an API error's does. */
export class GrantInputError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.field = 'grant';
  }
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const GRANT_FORMS = 'a modid for every cmdid of it (7), or modid:cmdid for one (7:1)';

/** "7", "7:*" or "7:1" as typed (decimal, no leading zeros, as lars user grant takes them), within the server's limits (int32). @param {string} text @returns {Grant} */
export function parseGrant(text) {
  const typed = text.trim();
  if (typed === '') throw new GrantInputError(`Type a module: ${GRANT_FORMS}.`);
  const match = /^(-?(?:0|[1-9]\d*))(?::(\*|-?(?:0|[1-9]\d*)))?$/.exec(typed);
  if (!match) throw new GrantInputError(`A grant is ${GRANT_FORMS}; got "${typed}".`);
  const modid = Number(match[1]);
  const cmdid = match[2] === undefined || match[2] === EVERY_CMDID ? null : Number(match[2]);
  if (![modid, cmdid ?? 0].every((n) => n >= INT32_MIN && n <= INT32_MAX)) throw new GrantInputError(`modid and cmdid are from ${INT32_MIN} to ${INT32_MAX}; got "${typed}".`);
  return { modid, cmdid };
}
