/**
 * The shape `lars module` and `lars route` share: add / update / del one
 * thing, or list them, each sub-command with its own flags.
 */
import { UsageError } from './args.js';

export type EditAction = 'add' | 'update' | 'del';

/** The past tense for "added module 1:1 (route version 7)". */
export const EDITED: Record<EditAction, string> = { add: 'added', update: 'updated', del: 'deleted' };

/** A command of named sub-commands (`lars user add|passwd|…`, `lars token add|list|revoke`): an unknown one is a usage error naming the forms. */
export function subcommands(noun: string, forms: string, table: Record<string, (argv: string[]) => Promise<number>>): (argv: string[]) => Promise<number> {
  return async ([sub, ...rest]) => {
    if (sub !== undefined && Object.hasOwn(table, sub)) return table[sub]!(rest);
    throw new UsageError(sub ? `unknown ${noun} command ${JSON.stringify(sub)}: ${forms}` : forms);
  };
}

export function editListCommand(
  noun: string,
  forms: string,
  edit: (argv: string[], action: EditAction) => Promise<number>,
  list: (argv: string[]) => Promise<number>,
  more: Record<string, (argv: string[]) => Promise<number>> = {},
): (argv: string[]) => Promise<number> {
  return async ([sub, ...rest]) => {
    if (sub !== undefined && Object.hasOwn(more, sub)) return more[sub]!(rest);
    switch (sub) {
      case 'add':
      case 'update':
      case 'del':
        return edit(rest, sub);
      case 'list':
        return list(rest);
      default:
        throw new UsageError(sub ? `unknown ${noun} command ${JSON.stringify(sub)}: ${forms}` : forms);
    }
  };
}
