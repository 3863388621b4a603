import type { BlockAction } from '@slack/bolt';
import { defaultRole } from '../../domain/access.js';
import { ids, parseMenuValue, type MenuVerb } from '../ids.js';

/**
 * What a click carries, read in one place: a button's value, a select's option, a menu's
 * "<verb>:<id>", the role picked next to a join request. Missing or foreign values read as empty.
 */
type Action = BlockAction['actions'][number];

export function buttonValue(action: Action): string {
  return 'value' in action ? String(action.value ?? '') : '';
}

export function selectedValue(action: Action): string {
  return 'selected_option' in action ? (action.selected_option?.value ?? '') : '';
}

/** A member or invite menu item (overflow option, or a button with the same value); undefined if unknown. */
export function menuChoice(action: Action): { verb: MenuVerb; id: string } | undefined {
  if ('selected_option' in action && action.selected_option) return parseMenuValue(action.selected_option.value ?? '');
  return parseMenuValue(buttonValue(action));
}

/** The App Home page a Previous/Next button leads to; the first page when it says nothing usable. */
export function pageNumber(action: Action): number {
  return Number(buttonValue(action)) || 0;
}

/** The role chosen in a join request's message (its block is "join:<requestId>"); member when none was picked. */
export function joinRoleChoice(body: BlockAction, requestId: string): string {
  return body.state?.values?.[`join:${requestId}`]?.[ids.actions.joinRole]?.selected_option?.value ?? defaultRole;
}
