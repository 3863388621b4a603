import type { ViewOutput } from '@slack/bolt';

/** A submitted modal's inputs, by block_id and action_id (both from ids.ts). Missing inputs read as empty. */
export type Values = ViewOutput['state']['values'];

export const text = (v: Values, block: string, action: string) => v[block]?.[action]?.value?.trim() ?? '';
export const selected = (v: Values, block: string, action: string) => v[block]?.[action]?.selected_option?.value ?? '';
export const selectedUser = (v: Values, block: string, action: string) => v[block]?.[action]?.selected_user ?? '';
/** A single checkbox: ticked when any of its options is selected. */
export const checked = (v: Values, block: string, action: string) => (v[block]?.[action]?.selected_options ?? []).length > 0;
