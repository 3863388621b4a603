import { describe, expect, it } from 'vitest';
import { parseAuditArgs, parseCommand, parseInviteArgs, parseReminderHours, parseSeatLimit, parseTarget, unescapeSlack } from '../../src/slack/parse.js';

describe('unescapeSlack', () => {
  it('turns Slack-escaped emails back into plain addresses', () => {
    expect(unescapeSlack('<mailto:ana@example.com|ana@example.com>')).toBe('ana@example.com');
    expect(unescapeSlack('<mailto:ana@example.com>')).toBe('ana@example.com');
    expect(unescapeSlack('invite <mailto:a@x.test|a@x.test>, <mailto:b@x.test|b@x.test> admin')).toBe('invite a@x.test, b@x.test admin');
  });

  it('turns Slack-escaped links back into their URL', () => {
    expect(unescapeSlack('<https://acme.test/path?q=1|acme.test/path>')).toBe('https://acme.test/path?q=1');
    expect(unescapeSlack('<http://acme.test>')).toBe('http://acme.test');
  });

  it('decodes &amp; &lt; &gt; once (an escaped entity stays literal)', () => {
    expect(unescapeSlack('Smith &amp; Sons &lt;b&gt;')).toBe('Smith & Sons <b>');
    expect(unescapeSlack('&amp;lt;')).toBe('&lt;');
  });

  it('leaves mentions alone so they can be parsed as targets', () => {
    expect(unescapeSlack('role <@U123|ana> admin')).toBe('role <@U123|ana> admin');
  });
});

describe('parseCommand', () => {
  it('splits the subcommand (lower-cased) from its arguments on spaces, commas and semicolons', () => {
    expect(parseCommand('  INVITE a@x.test, b@x.test;c@x.test   admin ')).toEqual({
      sub: 'invite',
      args: ['a@x.test', 'b@x.test', 'c@x.test', 'admin'],
      rest: 'a@x.test, b@x.test;c@x.test   admin',
    });
  });

  it('unescapes Slack emails before splitting', () => {
    expect(parseCommand('invite <mailto:ana@x.test|ana@x.test> billing').args).toEqual(['ana@x.test', 'billing']);
  });

  it('keeps the raw rest of the line (for free text such as a join message)', () => {
    const p = parseCommand('join acme-inc Hi, I work on the\nplatform team');
    expect(p.sub).toBe('join');
    expect(p.rest).toBe('acme-inc Hi, I work on the\nplatform team');
  });

  it('an empty or blank command has no subcommand', () => {
    expect(parseCommand('')).toEqual({ sub: '', args: [], rest: '' });
    expect(parseCommand('   ')).toEqual({ sub: '', args: [], rest: '' });
    expect(parseCommand('list')).toEqual({ sub: 'list', args: [], rest: '' });
  });
});

describe('parseTarget', () => {
  it('reads a user mention with or without a display name', () => {
    expect(parseTarget('<@U123|ana>')).toEqual({ slackUserId: 'U123' });
    expect(parseTarget('<@U0ABC9>')).toEqual({ slackUserId: 'U0ABC9' });
    expect(parseTarget('<@W123>')).toEqual({ slackUserId: 'W123' });
    expect(parseTarget('  <@W123|bo>  ')).toEqual({ slackUserId: 'W123' });
  });

  it('reads an email', () => {
    expect(parseTarget('ana@example.com')).toEqual({ email: 'ana@example.com' });
  });

  it('rejects garbage: plain words, a bare @name, channel mentions, nothing', () => {
    expect(parseTarget('ana')).toBeUndefined();
    expect(parseTarget('@ana')).toBeUndefined();
    expect(parseTarget('<!channel>')).toBeUndefined();
    expect(parseTarget('<#C123|general>')).toBeUndefined();
    expect(parseTarget('')).toBeUndefined();
    expect(parseTarget(undefined)).toBeUndefined();
  });
});

describe('parseInviteArgs', () => {
  it('finds the role anywhere in the arguments, in any case', () => {
    expect(parseInviteArgs(['admin', 'a@x.test', 'b@x.test'])).toEqual({ emails: ['a@x.test', 'b@x.test'], role: 'admin', billingEmails: false, unknown: [] });
    expect(parseInviteArgs(['a@x.test', 'Developer', 'b@x.test']).role).toBe('developer');
    expect(parseInviteArgs(['a@x.test', 'BILLING']).role).toBe('billing');
  });

  it('without a role word the role is left to the caller (undefined)', () => {
    expect(parseInviteArgs(['a@x.test']).role).toBeUndefined();
  });

  it('recognizes the billing-emails flag with or without dashes in front', () => {
    expect(parseInviteArgs(['a@x.test', 'billing-emails']).billingEmails).toBe(true);
    expect(parseInviteArgs(['--billing-emails', 'a@x.test']).billingEmails).toBe(true);
    expect(parseInviteArgs(['a@x.test', 'Billing-Emails']).billingEmails).toBe(true);
  });

  it('collects words it does not understand instead of dropping them', () => {
    const p = parseInviteArgs(['a@x.test', 'admni', 'please']);
    expect(p.unknown).toEqual(['admni', 'please']);
    expect(p.role).toBeUndefined();
    expect(p.emails).toEqual(['a@x.test']);
  });
});

describe('parseAuditArgs', () => {
  const now = new Date('2026-03-10T12:00:00Z');

  it('reads an age in hours, days or weeks as "since"', () => {
    expect(parseAuditArgs(['24h'], now).since).toEqual(new Date('2026-03-09T12:00:00Z'));
    expect(parseAuditArgs(['7d'], now).since).toEqual(new Date('2026-03-03T12:00:00Z'));
    expect(parseAuditArgs(['2w'], now).since).toEqual(new Date('2026-02-24T12:00:00Z'));
    expect(parseAuditArgs(['3D'], now).since).toEqual(new Date('2026-03-07T12:00:00Z'));
  });

  it('reads an ISO date as "since"', () => {
    expect(parseAuditArgs(['2026-01-31'], now).since).toEqual(new Date('2026-01-31T00:00:00Z'));
    expect(parseAuditArgs(['2026-01-31T08:30:00Z'], now).since).toEqual(new Date('2026-01-31T08:30:00Z'));
  });

  it('reads an action name and an @mention as actor, in any order', () => {
    expect(parseAuditArgs(['<@U42|ana>', 'invite.created', '7d'], now)).toEqual({
      unknown: [],
      actor: { slackUserId: 'U42' },
      action: 'invite.created',
      since: new Date('2026-03-03T12:00:00Z'),
    });
    expect(parseAuditArgs(['member.role_changed'], now).action).toBe('member.role_changed');
  });

  it('reports anything else as unknown: words, impossible dates, bad ages, emails', () => {
    const p = parseAuditArgs(['yesterday', '2026-13-45', '7x', '12345d', 'ana@x.test', 'Invite.Created'], now);
    expect(p.unknown).toEqual(['yesterday', '2026-13-45', '7x', '12345d', 'ana@x.test', 'Invite.Created']);
    expect(p.since).toBeUndefined();
    expect(p.action).toBeUndefined();
    expect(p.actor).toBeUndefined();
  });

  it('no arguments means no filter', () => {
    expect(parseAuditArgs([], now)).toEqual({ unknown: [] });
  });
});

describe('parseTarget rejects tokens that only look like emails', () => {
  it('a token with @ that is not an email is not a target', () => {
    expect(parseTarget('<@u123>')).toBeUndefined();
    expect(parseTarget('<!channel>@x')).toBeUndefined();
    expect(parseTarget('a@b@c')).toBeUndefined();
    expect(parseTarget('ana@example.com')).toEqual({ email: 'ana@example.com' });
  });
});

describe('settings form fields', () => {
  it('reminders are whole hours separated by commas, spaces or semicolons, with or without "h"', () => {
    expect(parseReminderHours('72, 24')).toEqual([72, 24]);
    expect(parseReminderHours('72h;24 h 2 hours')).toEqual([72, 24, 2]);
    expect(parseReminderHours(' 48 ')).toEqual([48]);
  });

  it('empty reminders mean none', () => {
    expect(parseReminderHours('')).toEqual([]);
    expect(parseReminderHours(' , ')).toEqual([]);
  });

  it('reminders that are not whole numbers are not understood (the range is the domain’s to check)', () => {
    expect(parseReminderHours('3 days')).toBeUndefined();
    expect(parseReminderHours('1.5')).toBeUndefined();
    expect(parseReminderHours('soon')).toBeUndefined();
    // Out of range but whole: passed on, so the domain's own message is shown.
    expect(parseReminderHours('0, -1, 9999')).toEqual([0, -1, 9999]);
  });

  it('an empty seat limit means no limit; a whole number is a limit; anything else is not understood', () => {
    expect(parseSeatLimit('')).toBeNull();
    expect(parseSeatLimit('  ')).toBeNull();
    expect(parseSeatLimit('25')).toBe(25);
    expect(parseSeatLimit('0')).toBe(0);
    expect(parseSeatLimit('2.5')).toBeUndefined();
    expect(parseSeatLimit('ten')).toBeUndefined();
  });
});
