/**
 * Small Block Kit helpers that keep every block inside Slack's limits: text is escaped (a name can
 * never become a mention like <!channel>) and truncated to the field's maximum.
 */
export const limits = {
  messageBlocks: 50,
  surfaceBlocks: 100,
  sectionText: 3000,
  headerText: 150,
  buttonText: 75,
  optionText: 75,
  optionValue: 150,
  selectOptions: 100,
  overflowOptions: 5,
  modalTitle: 24,
  modalButton: 24,
  contextElements: 10,
  fallbackText: 4000,
} as const;

export type Block = Record<string, unknown> & { type: string };
export type Option = { text: { type: 'plain_text'; text: string }; value: string };

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Text cut to at most `max` characters (UTF-16 units, as Slack counts) with "…": never inside an emoji
 * or other grapheme, an escape (&amp;), or a Slack token (<@U…>, <url|text>, <!date…>) — a half token
 * would show as garbage or make Slack refuse the block. Never empty: Slack refuses empty text.
 */
export function truncate(s: string, max: number): string {
  if (!s) return ' ';
  if (s.length <= max) return s;
  let cut = 0;
  for (const { segment } of graphemes.segment(s)) {
    if (cut + segment.length > max - 1) break;
    cut += segment.length;
  }
  let head = s.slice(0, cut);
  const amp = head.lastIndexOf('&');
  if (amp !== -1 && !head.slice(amp).includes(';') && /^&(amp|lt|gt);/.test(s.slice(amp))) head = head.slice(0, amp);
  const open = head.lastIndexOf('<');
  if (open !== -1 && !head.slice(open).includes('>')) head = head.slice(0, open);
  return `${head}…`;
}

/** Escapes user-provided text for mrkdwn. */
export function esc(s: string | null | undefined): string {
  return (s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const plain = (text: string, max: number = limits.sectionText) => ({ type: 'plain_text' as const, text: truncate(text, max), emoji: true });
// verbatim: Slack does not turn text people typed (an org name like "acme.com", "#general") into links
// or mentions; Roster's own <url|links> and <!date> still render.
export const md = (text: string, max: number = limits.sectionText) => ({ type: 'mrkdwn' as const, text: truncate(text, max), verbatim: true });

export function header(text: string): Block {
  return { type: 'header', text: plain(text, limits.headerText) };
}

export function section(text: string, accessory?: Record<string, unknown>): Block {
  return { type: 'section', text: md(text), ...(accessory ? { accessory } : {}) };
}

export function context(...texts: string[]): Block {
  return { type: 'context', elements: texts.slice(0, limits.contextElements).map((t) => md(t, 2000)) };
}

export function divider(): Block {
  return { type: 'divider' };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Record<string, unknown> {
  return { type: 'button', text: plain(text, limits.buttonText), action_id: actionId, value, ...(style ? { style } : {}) };
}

export function option(text: string, value: string): Option {
  return { text: plain(text, limits.optionText), value: value.slice(0, limits.optionValue) };
}

export function overflow(actionId: string, options: Option[]): Record<string, unknown> | undefined {
  if (options.length === 0) return undefined;
  // An overflow menu needs 2–5 options; with one, a button says the same thing.
  if (options.length === 1) return button(options[0]!.text.text, actionId, options[0]!.value);
  return { type: 'overflow', action_id: actionId, options: options.slice(0, limits.overflowOptions) };
}

export function actions(...elements: Record<string, unknown>[]): Block {
  return { type: 'actions', elements };
}

export function modal(opts: {
  callbackId: string;
  title: string;
  blocks: Block[];
  submit?: string;
  close?: string;
  privateMetadata?: string;
}): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: opts.callbackId,
    title: plain(opts.title, limits.modalTitle),
    ...(opts.submit ? { submit: plain(opts.submit, limits.modalButton) } : {}),
    close: plain(opts.close ?? (opts.submit ? 'Cancel' : 'Close'), limits.modalButton),
    blocks: opts.blocks.slice(0, limits.surfaceBlocks),
    ...(opts.privateMetadata ? { private_metadata: opts.privateMetadata.slice(0, 3000) } : {}),
  };
}

/** Short human date in the reader's own time zone (Slack renders <!date>). */
export function slackDate(d: Date | null | undefined, fallback = 'never'): string {
  if (!d) return fallback;
  const secs = Math.floor(d.getTime() / 1000);
  return `<!date^${secs}^{date_short_pretty} {time}|${d.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}
