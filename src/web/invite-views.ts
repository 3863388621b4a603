import type { InviteLookup } from '../domain/invites.js';
import { utcDate } from '../shared/text.js';
import { html, type SafeHtml } from '../shared/html.js';

/** The invite page's fixed pages (joined, declined, unknown link, messages) and its expiry wording. */

export type Rendered = { status: number; title: string; body: SafeHtml };

export function joinedPage(org: string, role: string, alreadyMember: boolean): Rendered {
  return {
    status: 200,
    title: alreadyMember ? `You're already in ${org}` : `You joined ${org}`,
    body: alreadyMember
      ? html`
<h1>You're already in ${org}</h1>
<p class="ok">You were already a member of <strong>${org}</strong>; your role stays <strong>${role}</strong>.</p>
<p class="note">The invite is now used. You can close this page.</p>`
      : html`
<h1>Welcome to ${org}</h1>
<p class="ok">You joined <strong>${org}</strong> as <strong>${role}</strong>.</p>
<p class="note">You can now use ${org} in Roster, for example from Slack. You can close this page.</p>`,
  };
}

export function declinedPage(l: InviteLookup): Rendered {
  return {
    status: 200,
    title: 'Invite declined',
    body: html`
<h1>Invite declined</h1>
<p>You declined the invite to join <strong>${l.org.name}</strong>. ${l.invitedByName ? `${l.invitedByName} will be told.` : ''}</p>
<p class="note">Nothing else to do; you can close this page.</p>`,
  };
}

export function unknownPage(): Rendered {
  return {
    status: 404,
    title: "This link isn't valid",
    body: html`
<h1>This link isn't valid</h1>
<p>This invite link is not valid. A newer invite may have replaced it: check your latest email from Roster.</p>
<p class="note">If you can't find a newer one, ask the organization to invite you again.</p>`,
  };
}

export function messagePage(status: number, title: string, text: string): Rendered {
  return { status, title, body: html`<h1>${title}</h1><p>${text}</p>` };
}

export function serverErrorPage(): Rendered {
  return messagePage(500, 'Something went wrong on our side', 'Please try again in a moment. If it keeps happening, tell the organization that invited you.');
}

/** "in 14 days (Mon, 19 Jan 2026 09:00 UTC)" or "Does not expire". */
export function expiryText(expiresAt: Date | null, now: Date): string {
  if (!expiresAt) return 'Does not expire';
  return `${inWords(expiresAt.getTime() - now.getTime())} (${utcDate(expiresAt)})`;
}

function inWords(ms: number): string {
  const minutes = ms / 60_000;
  const hours = minutes / 60;
  const days = hours / 24;
  if (days >= 2) return `in ${Math.round(days)} days`;
  if (hours >= 2) return `in ${Math.round(hours)} hours`;
  if (minutes >= 60) return 'in 1 hour';
  if (minutes >= 2) return `in ${Math.round(minutes)} minutes`;
  return 'in a minute';
}
