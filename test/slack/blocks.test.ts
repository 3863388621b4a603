import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { joinApprovalRoles, type Role } from '../../src/domain/access.js';
import type { InviteResult, InviteView } from '../../src/domain/invites.js';
import type { MemberView } from '../../src/domain/members.js';
import type { MyOrg } from '../../src/domain/orgs.js';
import type { AuditEventRow, OrgRow } from '../../src/db/schema.js';
import { ids } from '../../src/slack/ids.js';
import { HOME_PAGE_SIZE, homeView, type HomeData } from '../../src/slack/blocks/home.js';
import { button, esc, option, overflow, type Block } from '../../src/slack/blocks/kit.js';
import { inviteMenu, invitesMessage, memberMenu, membersMessage, orgOfMemberBlock, type Viewer } from '../../src/slack/blocks/members.js';
import { auditMessage, inviteDecidedDm, inviteDm, joinRequestDecidedDm, joinRequestDm, orgListMessage } from '../../src/slack/blocks/messages.js';
import {
  changeInviteModal,
  changeRoleForAccountModal,
  changeRoleModal,
  createOrgModal,
  deleteOrgModal,
  infoModal,
  inviteModal,
  inviteResultModal,
  leaveModal,
  removeMemberModal,
  renameModal,
  settingsModal,
  settingsSavedModal,
  switchOrgModal,
} from '../../src/slack/blocks/modals.js';

// ---------------------------------------------------------------------------------------------
// A small Block Kit validator: walks a message, modal or home view and lists every place that
// breaks one of Slack's published limits (Slack answers such payloads with invalid_blocks).
// ---------------------------------------------------------------------------------------------

const LIMIT = {
  messageBlocks: 50,
  surfaceBlocks: 100,
  section: 3000,
  sectionField: 2000,
  header: 150,
  contextText: 3000,
  contextElements: 10,
  actionsElements: 25,
  button: 75,
  buttonValue: 2000,
  optionText: 75,
  optionValue: 150,
  selectOptions: 100,
  overflowMin: 2,
  overflowMax: 5,
  checkboxOptions: 10,
  placeholder: 150,
  label: 2000,
  hint: 2000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  id: 255,
  fallbackText: 4000,
} as const;

type Json = any;

function textObj(t: Json, path: string, max: number, issues: string[], kind?: 'plain_text' | 'mrkdwn') {
  if (!t || typeof t !== 'object') return void issues.push(`${path}: missing text object`);
  if (t.type !== 'plain_text' && t.type !== 'mrkdwn') issues.push(`${path}: text type ${t.type}`);
  if (kind && t.type !== kind) issues.push(`${path}: must be ${kind}, is ${t.type}`);
  if (typeof t.text !== 'string' || t.text.length < 1) issues.push(`${path}: empty text`);
  else if (t.text.length > max) issues.push(`${path}: text is ${t.text.length} > ${max} chars`);
}

function checkOption(o: Json, path: string, issues: string[]) {
  textObj(o?.text, `${path}.text`, LIMIT.optionText, issues, 'plain_text');
  if (typeof o?.value !== 'string' || o.value.length < 1 || o.value.length > LIMIT.optionValue) issues.push(`${path}.value: length ${o?.value?.length}`);
}

function checkElement(el: Json, path: string, issues: string[]) {
  if (el.action_id !== undefined && (typeof el.action_id !== 'string' || el.action_id.length > LIMIT.id)) issues.push(`${path}.action_id too long`);
  switch (el.type) {
    case 'button':
      textObj(el.text, `${path}.text`, LIMIT.button, issues, 'plain_text');
      if (el.value !== undefined && String(el.value).length > LIMIT.buttonValue) issues.push(`${path}.value too long`);
      if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') issues.push(`${path}.style ${el.style}`);
      break;
    case 'overflow':
      if (!Array.isArray(el.options) || el.options.length < LIMIT.overflowMin || el.options.length > LIMIT.overflowMax) {
        issues.push(`${path}: overflow needs ${LIMIT.overflowMin}–${LIMIT.overflowMax} options, has ${el.options?.length}`);
      }
      (el.options ?? []).forEach((o: Json, i: number) => checkOption(o, `${path}.options[${i}]`, issues));
      break;
    case 'static_select': {
      if (!Array.isArray(el.options) || el.options.length < 1 || el.options.length > LIMIT.selectOptions) {
        issues.push(`${path}: static_select needs 1–${LIMIT.selectOptions} options, has ${el.options?.length}`);
      }
      (el.options ?? []).forEach((o: Json, i: number) => checkOption(o, `${path}.options[${i}]`, issues));
      if (el.placeholder) textObj(el.placeholder, `${path}.placeholder`, LIMIT.placeholder, issues, 'plain_text');
      if (el.initial_option && !(el.options ?? []).some((o: Json) => JSON.stringify(o) === JSON.stringify(el.initial_option))) {
        issues.push(`${path}: initial_option is not one of its options`);
      }
      break;
    }
    case 'checkboxes':
      if (!Array.isArray(el.options) || el.options.length < 1 || el.options.length > LIMIT.checkboxOptions)
        issues.push(`${path}: checkboxes options ${el.options?.length}`);
      (el.options ?? []).forEach((o: Json, i: number) => checkOption(o, `${path}.options[${i}]`, issues));
      for (const o of el.initial_options ?? []) {
        if (!(el.options ?? []).some((x: Json) => JSON.stringify(x) === JSON.stringify(o))) issues.push(`${path}: an initial option is not one of its options`);
      }
      break;
    case 'plain_text_input':
      if (el.placeholder) textObj(el.placeholder, `${path}.placeholder`, LIMIT.placeholder, issues, 'plain_text');
      if (el.max_length !== undefined && (el.max_length < 1 || el.max_length > 3000)) issues.push(`${path}.max_length ${el.max_length}`);
      if (el.initial_value !== undefined && el.max_length !== undefined && el.initial_value.length > el.max_length)
        issues.push(`${path}.initial_value longer than max_length`);
      break;
    case 'number_input':
      if (typeof el.is_decimal_allowed !== 'boolean') issues.push(`${path}.is_decimal_allowed must be a boolean`);
      if (el.initial_value !== undefined && (typeof el.initial_value !== 'string' || Number.isNaN(Number(el.initial_value))))
        issues.push(`${path}.initial_value must be a number string`);
      if (el.initial_value !== undefined && el.is_decimal_allowed === false && !/^-?\d+$/.test(el.initial_value))
        issues.push(`${path}.initial_value must be whole`);
      break;
    case 'users_select':
      if (el.placeholder) textObj(el.placeholder, `${path}.placeholder`, LIMIT.placeholder, issues, 'plain_text');
      break;
    default:
      issues.push(`${path}: unexpected element type ${el.type}`);
  }
}

function checkBlocks(blocks: Json[], max: number, issues: string[]) {
  if (!Array.isArray(blocks)) return void issues.push('blocks is not an array');
  if (blocks.length < 1) issues.push('no blocks');
  if (blocks.length > max) issues.push(`${blocks.length} blocks > ${max}`);
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const path = `blocks[${i}](${b?.type})`;
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > LIMIT.id) issues.push(`${path}.block_id too long`);
      if (blockIds.has(b.block_id)) issues.push(`${path}: duplicate block_id ${b.block_id}`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'section':
        if (!b.text && !b.fields) issues.push(`${path}: section without text or fields`);
        if (b.text) textObj(b.text, `${path}.text`, LIMIT.section, issues);
        if (b.fields) {
          if (b.fields.length > 10) issues.push(`${path}: ${b.fields.length} fields > 10`);
          b.fields.forEach((f: Json, j: number) => textObj(f, `${path}.fields[${j}]`, LIMIT.sectionField, issues));
        }
        if (b.accessory) checkElement(b.accessory, `${path}.accessory`, issues);
        break;
      case 'header':
        textObj(b.text, `${path}.text`, LIMIT.header, issues, 'plain_text');
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > LIMIT.contextElements)
          issues.push(`${path}: ${b.elements?.length} elements`);
        (b.elements ?? []).forEach((e: Json, j: number) => textObj(e, `${path}.elements[${j}]`, LIMIT.contextText, issues));
        break;
      case 'divider':
        break;
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length < 1 || b.elements.length > LIMIT.actionsElements)
          issues.push(`${path}: ${b.elements?.length} elements`);
        const actionIds = new Set<string>();
        (b.elements ?? []).forEach((e: Json, j: number) => {
          checkElement(e, `${path}.elements[${j}]`, issues);
          // Slack rejects a block whose elements share an action_id.
          if (e.action_id !== undefined) {
            if (actionIds.has(e.action_id)) issues.push(`${path}: duplicate action_id ${e.action_id} in one block`);
            actionIds.add(e.action_id);
          }
        });
        break;
      }
      case 'input':
        textObj(b.label, `${path}.label`, LIMIT.label, issues, 'plain_text');
        if (b.hint) textObj(b.hint, `${path}.hint`, LIMIT.hint, issues, 'plain_text');
        if (!b.block_id) issues.push(`${path}: input without block_id`);
        checkElement(b.element, `${path}.element`, issues);
        break;
      default:
        issues.push(`${path}: unexpected block type`);
    }
  });
}

/** Every limit a message (chat.postMessage / response_url) must respect; [] when valid. */
function messageIssues(msg: { text?: string; blocks: Json[] }): string[] {
  const issues: string[] = [];
  if (msg.text !== undefined && (msg.text.length < 1 || msg.text.length > LIMIT.fallbackText)) issues.push(`fallback text length ${msg.text.length}`);
  checkBlocks(msg.blocks, LIMIT.messageBlocks, issues);
  return issues;
}

/** Every limit a modal or home view must respect; [] when valid. */
function viewIssues(view: Json): string[] {
  const issues: string[] = [];
  if (view.type === 'modal') {
    textObj(view.title, 'title', LIMIT.modalTitle, issues, 'plain_text');
    if (view.submit) textObj(view.submit, 'submit', LIMIT.modalButton, issues, 'plain_text');
    if (view.close) textObj(view.close, 'close', LIMIT.modalButton, issues, 'plain_text');
    if (view.callback_id && view.callback_id.length > LIMIT.id) issues.push('callback_id too long');
    if (view.private_metadata && view.private_metadata.length > LIMIT.privateMetadata) issues.push('private_metadata too long');
    if ((view.blocks ?? []).some((b: Json) => b.type === 'input') && !view.submit) issues.push('a modal with inputs needs a submit button');
  } else if (view.type !== 'home') {
    issues.push(`view type ${view.type}`);
  }
  checkBlocks(view.blocks, LIMIT.surfaceBlocks, issues);
  return issues;
}

/** All elements of a given type anywhere in a tree. */
function findAll(node: Json, pred: (n: Json) => boolean, out: Json[] = []): Json[] {
  if (Array.isArray(node)) node.forEach((n) => findAll(n, pred, out));
  else if (node && typeof node === 'object') {
    if (pred(node)) out.push(node);
    Object.values(node).forEach((v) => findAll(v, pred, out));
  }
  return out;
}

/** Text Slack parses for mentions: mrkdwn text objects and the top-level fallback `text`. */
function parsedTexts(surface: Json): string[] {
  const texts = findAll(surface, (n) => n.type === 'mrkdwn' && typeof n.text === 'string').map((n) => n.text as string);
  if (typeof surface?.text === 'string') texts.push(surface.text);
  return texts;
}

const LIVE_MENTION = /<!(channel|here|everyone)\b|<@[UW][A-Z0-9]+|<#C|<!subteam/;

// ---------------------------------------------------------------------------------------------
// Fixtures built in memory
// ---------------------------------------------------------------------------------------------

const now = new Date('2026-03-10T12:00:00Z');

function orgRow(name = 'Acme Widgets', over: Partial<OrgRow> = {}): OrgRow {
  return {
    id: randomUUID(),
    name,
    slug:
      name
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 40) || 'org',
    primaryOwnerId: randomUUID(),
    inviteExpiryHours: 336,
    reminderHours: [72, 24],
    seatLimit: null,
    scimDefaultRole: 'member',
    scimAllowOwner: false,
    createdAt: now,
    updatedAt: now,
    ...over,
  };
}

function memberView(i: number, over: Partial<MemberView> = {}): MemberView {
  return {
    membershipId: randomUUID(),
    accountId: randomUUID(),
    displayName: `Person ${i} ${'with a rather long display name '.repeat(2)}`,
    email: `person.${i}.${'x'.repeat(40)}@a-long-company-domain.example.com`,
    role: (['admin', 'billing', 'developer', 'member'] as const)[i % 4]!,
    status: i % 17 === 0 ? 'suspended' : 'active',
    billingEmails: i % 3 === 0,
    source: i % 5 === 0 ? 'scim' : 'invite',
    scimBaseRole: i % 10 === 0 ? 'member' : null,
    joinedAt: now,
    isPrimaryOwner: false,
    ...over,
  };
}

function inviteView(i: number, over: Partial<InviteView> = {}): InviteView {
  return {
    id: randomUUID(),
    orgId: randomUUID(),
    email: `invitee.${i}.${'y'.repeat(50)}@example.com`,
    role: (['admin', 'billing', 'developer', 'member'] as const)[i % 4]!,
    billingEmails: i % 2 === 0,
    status: 'pending',
    tokenHash: 'h',
    tokenNonce: 'n',
    invitedById: randomUUID(),
    invitedByLabel: null,
    inviteeName: null,
    expiresAt: new Date(now.getTime() + 14 * 24 * 3_600_000),
    lastSentAt: now,
    remindersSent: [],
    decidedById: null,
    decidedAt: null,
    createdAt: now,
    updatedAt: now,
    state: 'pending',
    invitedByName: `Inviter ${i}`,
    ...over,
  };
}

function myOrg(org: OrgRow, role: Role, active = false): MyOrg {
  return { org, role, status: 'active', active };
}

const viewerOf = (role: Role, over: Partial<Viewer> = {}): Viewer => ({ accountId: randomUUID(), role, isPrimaryOwner: false, ...over });

function homeData(opts: {
  members: number;
  offset?: number;
  role?: Role;
  orgs?: number;
  invites?: number;
  invitesForMe?: number;
  passAll?: boolean;
}): HomeData {
  const org = orgRow('Big Org');
  const all = Array.from({ length: opts.members }, (_, i) => memberView(i));
  const offset = opts.offset ?? 0;
  const others = Array.from({ length: (opts.orgs ?? 1) - 1 }, (_, i) => myOrg(orgRow(`Other org number ${i} ${'z'.repeat(80)}`), 'member'));
  const current = myOrg(org, opts.role ?? 'owner', true);
  return {
    mine: [...others, current],
    current,
    viewer: viewerOf(opts.role ?? 'owner', { isPrimaryOwner: (opts.role ?? 'owner') === 'owner' }),
    members: opts.passAll ? all : all.slice(offset, offset + HOME_PAGE_SIZE),
    memberTotal: all.length,
    offset,
    pendingInvites: Array.from({ length: opts.invites ?? 0 }, (_, i) => inviteView(i)),
    invitesForMe: Array.from({ length: opts.invitesForMe ?? 0 }, (_, i) => ({ ...inviteView(i), orgName: `Inviting org ${i}` })),
  };
}

const blocksOf = (view: Json): Block[] => view.blocks;
const buttons = (node: Json) => findAll(node, (n) => n.type === 'button');
const allText = (node: Json) => JSON.stringify(node);

// ---------------------------------------------------------------------------------------------

describe('the validator itself', () => {
  it('catches what Slack would reject', () => {
    const tooLong = { type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } };
    const dupActions = { type: 'actions', elements: [button('A', 'same', '1'), button('B', 'same', '2')] };
    const oneOptionOverflow = {
      type: 'section',
      text: { type: 'mrkdwn', text: 'x' },
      accessory: { type: 'overflow', action_id: 'o', options: [option('a', 'a')] },
    };
    const hugeSelect = {
      type: 'actions',
      elements: [{ type: 'static_select', action_id: 's', options: Array.from({ length: 101 }, (_, i) => option(`o${i}`, `v${i}`)) }],
    };
    const issues = messageIssues({
      text: 't',
      blocks: [tooLong, dupActions, oneOptionOverflow, hugeSelect, ...Array.from({ length: 47 }, () => ({ type: 'divider' }))],
    });
    expect(issues.join('\n')).toMatch(/3001 > 3000/);
    expect(issues.join('\n')).toMatch(/duplicate action_id same/);
    expect(issues.join('\n')).toMatch(/overflow needs 2–5 options, has 1/);
    expect(issues.join('\n')).toMatch(/static_select needs 1–100 options, has 101/);
    expect(issues.join('\n')).toMatch(/51 blocks > 50/);
    expect(viewIssues({ type: 'modal', title: { type: 'plain_text', text: 'x'.repeat(25) }, blocks: [{ type: 'divider' }] }).join()).toMatch(/25 > 24/);
    expect(messageIssues({ text: 'ok', blocks: [{ type: 'divider' }] })).toEqual([]);
  });
});

describe('App Home (homeView)', () => {
  it('an org with 300 members renders a valid App Home: one page of members, ≤100 blocks, a Next button', () => {
    const view = homeView(homeData({ members: 300, invites: 60, invitesForMe: 9, orgs: 3 }));
    expect(viewIssues(view)).toEqual([]);
    expect(blocksOf(view).length).toBeLessThanOrEqual(100);
    const memberMenus = findAll(view, (n) => n.action_id === ids.actions.homeMemberMenu);
    expect(memberMenus).toHaveLength(HOME_PAGE_SIZE);
    const paging = buttons(view).filter((b) => b.action_id.startsWith(ids.actions.homePage));
    expect(paging.map((b) => [b.text.text, b.value])).toEqual([['Next ▶', String(HOME_PAGE_SIZE)]]);
    expect(allText(view)).toMatch(/\*Members\* · 300 \(showing 1–25\)/);
    // 60 pending invites: 20 shown, the rest counted.
    expect(findAll(view, (n) => n.action_id === ids.actions.homeInviteMenu)).toHaveLength(20);
    expect(allText(view)).toMatch(/…and 40 more/);
  });

  it('a middle page has both Previous and Next, and is still valid (distinct action_ids in one block)', () => {
    const view = homeView(homeData({ members: 300, offset: 125 }));
    expect(viewIssues(view)).toEqual([]);
    const paging = buttons(view).filter((b) => b.action_id.startsWith(ids.actions.homePage));
    expect(paging.map((b) => [b.text.text, b.value])).toEqual([
      ['◀ Previous', '100'],
      ['Next ▶', '150'],
    ]);
    expect(allText(view)).toMatch(/showing 126–150/);
  });

  it('the last page has only Previous', () => {
    const view = homeView(homeData({ members: 300, offset: 275 }));
    expect(viewIssues(view)).toEqual([]);
    const paging = buttons(view).filter((b) => b.action_id.startsWith(ids.actions.homePage));
    expect(paging.map((b) => [b.text.text, b.value])).toEqual([['◀ Previous', '250']]);
    expect(allText(view)).toMatch(/showing 276–300/);
  });

  it('given every member at once it still shows one page and offers Next', () => {
    const view = homeView(homeData({ members: 300, passAll: true }));
    expect(viewIssues(view)).toEqual([]);
    expect(findAll(view, (n) => n.action_id === ids.actions.homeMemberMenu)).toHaveLength(HOME_PAGE_SIZE);
    expect(allText(view)).toMatch(/showing 1–25/);
    expect(buttons(view).some((b) => b.text.text === 'Next ▶')).toBe(true);
  });

  it('the org switcher offers at most 100 organizations, with the active one selected', () => {
    const d = homeData({ members: 3, orgs: 150 });
    const view = homeView(d);
    expect(viewIssues(view)).toEqual([]);
    const [select] = findAll(view, (n) => n.action_id === ids.actions.homeSwitchOrg);
    expect(select.options.length).toBeLessThanOrEqual(100);
    for (const o of select.options) expect(o.text.text.length).toBeLessThanOrEqual(75);
  });

  it('with one organization there is no switcher', () => {
    const view = homeView(homeData({ members: 3, orgs: 1 }));
    expect(findAll(view, (n) => n.action_id === ids.actions.homeSwitchOrg)).toEqual([]);
  });

  it('a plain member sees no menus, no invite button and no pending invites section', () => {
    const d = homeData({ members: 30, role: 'member', invites: 5 });
    const view = homeView(d);
    expect(viewIssues(view)).toEqual([]);
    expect(findAll(view, (n) => n.type === 'overflow')).toEqual([]);
    expect(findAll(view, (n) => n.action_id === ids.actions.homeMemberMenu || n.action_id === ids.actions.homeInviteMenu)).toEqual([]);
    expect(findAll(view, (n) => n.action_id === ids.actions.homeInvite)).toEqual([]);
    expect(allText(view)).not.toMatch(/Pending invites/);
  });

  it('someone in 150 organizations with none active gets a valid chooser of at most 100, not the welcome', () => {
    const mine = Array.from({ length: 150 }, (_, i) => myOrg(orgRow(`Org ${i} ${'z'.repeat(80)}`), 'member'));
    const view = homeView({ mine, current: undefined, viewer: undefined, members: [], memberTotal: 0, offset: 0, pendingInvites: [], invitesForMe: [] });
    expect(viewIssues(view)).toEqual([]);
    const [select] = findAll(view, (n) => n.action_id === ids.actions.homeSwitchOrg);
    expect(select.options).toHaveLength(100);
    expect(allText(view)).not.toMatch(/not in an organization yet/);
  });

  it('someone in no organization gets a valid welcome with a create button', () => {
    const view = homeView({ mine: [], current: undefined, viewer: undefined, members: [], memberTotal: 0, offset: 0, pendingInvites: [], invitesForMe: [] });
    expect(viewIssues(view)).toEqual([]);
    expect(findAll(view, (n) => n.action_id === ids.actions.homeCreateOrg)).toHaveLength(1);
  });

  it('huge names and emails are truncated to the limits', () => {
    const d = homeData({ members: 25, invites: 3 });
    d.current!.org.name = 'N'.repeat(500);
    d.members = d.members.map((m) => ({ ...m, displayName: 'D'.repeat(2000), email: `${'e'.repeat(2000)}@x.test` }));
    d.pendingInvites = d.pendingInvites.map((i) => ({ ...i, email: `${'e'.repeat(3500)}@x.test`, invitedByName: 'I'.repeat(500) }));
    expect(viewIssues(homeView(d))).toEqual([]);
  });
});

describe('/org members and /org invites messages', () => {
  it('300 members fit in one message (≤50 blocks) with "…and N more"', () => {
    const org = orgRow();
    const members = Array.from({ length: 300 }, (_, i) => memberView(i));
    const blocks = membersMessage(org, viewerOf('owner'), members, 300);
    expect(messageIssues({ text: 'x', blocks })).toEqual([]);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(allText(blocks.at(-1))).toMatch(/…and 253 more/);
    // The command asks for one page of 47: the same message.
    const page = membersMessage(org, viewerOf('owner'), members.slice(0, 47), 300);
    expect(page.length).toBeLessThanOrEqual(50);
    expect(allText(page.at(-1))).toMatch(/…and 253 more/);
  });

  it('each member row names the org it was rendered for (so a later click acts on that org)', () => {
    const org = orgRow();
    const members = [memberView(1), memberView(2)];
    const blocks = membersMessage(org, viewerOf('owner'), members, 2);
    const rows = blocks.filter((b) => b.type === 'section');
    expect(rows.map((b) => orgOfMemberBlock(b.block_id as string))).toEqual([org.id, org.id]);
    const home = homeView({ ...homeData({ members: 3 }) });
    const homeRows = blocksOf(home).filter((b) => typeof b.block_id === 'string' && b.block_id.startsWith('member:'));
    expect(homeRows).toHaveLength(3);
    expect(orgOfMemberBlock('b')).toBeUndefined();
    expect(orgOfMemberBlock(`member:${org.id}:x`)).toBeUndefined();
  });

  it('a small org has no "more" line', () => {
    const blocks = membersMessage(orgRow(), viewerOf('admin'), [memberView(1), memberView(2)], 2);
    expect(messageIssues({ text: 'x', blocks })).toEqual([]);
    expect(allText(blocks)).not.toMatch(/more/);
  });

  it('300 pending invites fit in one message with "…and N more"', () => {
    const blocks = invitesMessage(
      orgRow(),
      viewerOf('owner'),
      Array.from({ length: 300 }, (_, i) => inviteView(i)),
    );
    expect(messageIssues({ text: 'x', blocks })).toEqual([]);
    expect(blocks.length).toBeLessThanOrEqual(50);
    expect(allText(blocks.at(-1))).toMatch(/…and 253 more/);
  });

  it('no pending invites is one friendly section', () => {
    const blocks = invitesMessage(orgRow(), viewerOf('owner'), []);
    expect(messageIssues({ text: 'x', blocks })).toEqual([]);
    expect(allText(blocks)).toMatch(/no pending invites/);
  });
});

describe('modals', () => {
  it('the invite result for 100 emails is one valid modal whose sections list every email', () => {
    const org = orgRow();
    const results: InviteResult[] = Array.from({ length: 100 }, (_, i) => {
      const email = `someone.${i}.${'q'.repeat(200)}@example.com`;
      return i % 3 === 0
        ? { email, ok: false, code: 'invite_pending', message: 'An invite is already pending for that email. Resend or update it instead.' }
        : { email, ok: true, invite: inviteView(i, { email }), token: 't' };
    });
    const view = inviteResultModal(org, results);
    expect(viewIssues(view)).toEqual([]);
    const text = findAll(view, (n) => n.type === 'mrkdwn')
      .map((n) => n.text)
      .join('\n');
    for (const r of results) expect(text).toContain(r.email);
    expect(text).toMatch(/\*66\* invited/);
    expect(text).toMatch(/\*34\* not invited/);
    expect(text).toMatch(/Resend/);
  });

  it('every modal builder respects the title, button and block limits, even with the longest org name', () => {
    const org = orgRow('O'.repeat(80)); // the longest name the domain accepts
    const mine = Array.from({ length: 150 }, (_, i) => myOrg(orgRow(`Org ${i}`), 'member', i === 149));
    const views = {
      createOrgModal: createOrgModal(),
      switchOrgModal: switchOrgModal(mine),
      inviteModal: inviteModal(org, ['admin', 'billing', 'developer', 'member']),
      changeRoleModal: changeRoleModal(org, ['owner', 'admin', 'billing', 'developer', 'member'], 'U123'),
      changeRoleForAccountModal: changeRoleForAccountModal(org, ['admin', 'member'], { accountId: randomUUID(), displayName: 'A'.repeat(500), role: 'member' }),
      leaveModal: leaveModal(org),
      renameModal: renameModal(org),
      deleteOrgModal: deleteOrgModal(org),
      infoModal: infoModal('A title far longer than twenty-four characters', 'x'.repeat(5000)),
      removeMemberModal: removeMemberModal(org, { accountId: randomUUID(), displayName: 'A'.repeat(500) }),
      changeInviteModal: changeInviteModal(inviteView(1, { role: 'developer', billingEmails: true }), ['admin', 'billing', 'developer', 'member']),
      changeInviteModalForAnOwnerInvite: changeInviteModal(inviteView(2, { role: 'owner', billingEmails: false }), ['admin', 'member']),
      settingsModal: settingsModal(org),
      settingsModalWithEverySetting: settingsModal({ ...org, inviteExpiryHours: null, reminderHours: [720, 336, 168, 72, 1], seatLimit: 1_000_000 }),
      settingsSavedModal: settingsSavedModal({ ...org, reminderHours: [], seatLimit: 25 }),
    };
    for (const [name, view] of Object.entries(views)) expect({ name, issues: viewIssues(view) }).toEqual({ name, issues: [] });
  });

  it('the invite modal only offers the roles the inviter may grant', () => {
    const view = inviteModal(orgRow(), ['admin', 'billing', 'developer', 'member']);
    const [select] = findAll(view, (n) => n.action_id === ids.inputs.role);
    expect(select.options.map((o: Json) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(select.initial_option.value).toBe('member');
  });
});

describe('settings, invite change and remove confirmation modals', () => {
  const input = (view: Json, blockId: string) => view.blocks.find((b: Json) => b.block_id === blockId)?.element;

  it('the settings modal shows the current values: expiry preselected, reminders as "72, 24", no seat limit', () => {
    const view = settingsModal(orgRow('Acme', { inviteExpiryHours: 336, reminderHours: [72, 24], seatLimit: null }));
    const expiry = input(view, ids.blocks.inviteExpiry);
    expect(expiry.options.map((o: Json) => o.value)).toEqual(['72h', '7d', '14d', '30d', 'never']);
    expect(expiry.initial_option.value).toBe('14d');
    expect(input(view, ids.blocks.reminders).initial_value).toBe('72, 24');
    expect(input(view, ids.blocks.seatLimit)).toMatchObject({ type: 'number_input', is_decimal_allowed: false });
    expect(input(view, ids.blocks.seatLimit).initial_value).toBeUndefined();
    expect(JSON.parse(view.private_metadata as string)).toEqual({ orgId: expect.any(String) });
  });

  it('changed settings are preselected too: never, no reminders, a seat limit', () => {
    const view = settingsModal(orgRow('Acme', { inviteExpiryHours: null, reminderHours: [], seatLimit: 12 }));
    expect(input(view, ids.blocks.inviteExpiry).initial_option.value).toBe('never');
    expect(input(view, ids.blocks.reminders).initial_value).toBeUndefined();
    expect(input(view, ids.blocks.seatLimit).initial_value).toBe('12');
  });

  it('the saved summary says what each setting now is', () => {
    const text = findAll(settingsSavedModal(orgRow('Acme', { inviteExpiryHours: 168, reminderHours: [48, 2], seatLimit: 30 })), (n) => n.type === 'mrkdwn')[0]
      .text;
    expect(text).toBe(
      'Saved the settings of *Acme*:\n• Invites expire after 7 days\n• Reminders 48 h, 2 h before expiry\n• Seat limit: 30 (members and pending invites)',
    );
    const none = findAll(settingsSavedModal(orgRow('Acme', { inviteExpiryHours: null, reminderHours: [], seatLimit: null })), (n) => n.type === 'mrkdwn')[0]
      .text;
    expect(none).toBe('Saved the settings of *Acme*:\n• Invites never expire\n• No reminders\n• No seat limit');
  });

  it('the invite change modal offers only the roles given, preselects the current role and billing flag', () => {
    const invite = inviteView(1, { role: 'developer', billingEmails: true });
    const view = changeInviteModal(invite, ['admin', 'billing', 'developer', 'member']);
    expect(view.callback_id).toBe(ids.views.inviteChange);
    expect(JSON.parse(view.private_metadata as string)).toEqual({ inviteId: invite.id });
    expect(input(view, ids.blocks.role).options.map((o: Json) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(input(view, ids.blocks.role).initial_option.value).toBe('developer');
    expect(input(view, ids.blocks.billing).initial_options.map((o: Json) => o.value)).toEqual(['yes']);
    expect(input(changeInviteModal({ ...invite, billingEmails: false }, ['member']), ids.blocks.billing).initial_options).toBeUndefined();
  });

  it('the remove confirmation names the member and the org, and removes nothing by itself (it is only a question)', () => {
    const org = orgRow('Acme');
    const accountId = randomUUID();
    const view = removeMemberModal(org, { accountId, displayName: 'Mia' });
    expect(view).toMatchObject({ callback_id: ids.views.removeMember, submit: { text: 'Remove' }, close: { text: 'Cancel' } });
    expect(JSON.parse(view.private_metadata as string)).toEqual({ orgId: org.id, accountId });
    expect(findAll(view, (n) => n.type === 'mrkdwn').map((n) => n.text)).toEqual(['Remove *Mia* from *Acme*? Their access ends now.']);
  });
});

describe('DMs and other messages', () => {
  it('the invite DM has org, inviter, role, expiry, a link and Accept/Decline carrying the invite id', () => {
    const inviteId = randomUUID();
    const msg = inviteDm({ inviteId, orgName: 'Acme', inviterName: 'Ana', role: 'admin', expiresAt: now, link: 'https://roster.test/invites/abc' });
    expect(messageIssues(msg)).toEqual([]);
    const text = allText(msg.blocks);
    expect(text).toMatch(/Ana invited you to join \*Acme\* as \*Admin\*/);
    expect(text).toMatch(/expires <!date\^/);
    expect(text).toContain('<https://roster.test/invites/abc|Open in browser>');
    expect(buttons(msg).map((b) => [b.action_id, b.value])).toEqual([
      ['invite_accept', inviteId],
      ['invite_decline', inviteId],
    ]);
  });

  it('an invite that never expires says so', () => {
    const msg = inviteDm({
      inviteId: randomUUID(),
      orgName: 'Acme',
      inviterName: null,
      role: 'member',
      expiresAt: null,
      link: 'https://roster.test/invites/x',
    });
    expect(allText(msg)).toMatch(/does not expire/);
    expect(msg.text).toMatch(/^You're invited to join Acme as Member/);
  });

  it('the decided invite DM has no buttons left', () => {
    for (const msg of [inviteDecidedDm('Acme', 'accepted', 'developer'), inviteDecidedDm('Acme', 'declined')]) {
      expect(messageIssues(msg)).toEqual([]);
      expect(buttons(msg)).toEqual([]);
    }
    expect(inviteDecidedDm('Acme', 'accepted', 'developer').text).toMatch(/You joined Acme as Developer/);
  });

  it('the decided invite DM bolds the org name, not another word that happens to match it', () => {
    const msg = inviteDecidedDm('You', 'accepted', 'member');
    expect(msg.blocks[0]).toMatchObject({ text: { text: ':white_check_mark: You joined *You* as Member. It is now available in `/org` commands.' } });
  });

  it('the join request DM has a role select (no owner, member preselected) and Approve/Deny in one block', () => {
    const requestId = randomUUID();
    const msg = joinRequestDm({
      requestId,
      orgName: 'Acme',
      requesterName: 'Zed',
      requesterEmail: 'zed@x.test',
      message: 'Hi!',
      roles: joinApprovalRoles('owner'),
    });
    expect(messageIssues(msg)).toEqual([]);
    const block = msg.blocks.find((b) => b.type === 'actions') as Json;
    expect(block.block_id).toBe(`join:${requestId}`);
    const [select, approve, deny] = block.elements;
    expect(select.action_id).toBe('join_role');
    expect(select.options.map((o: Json) => o.value)).toEqual(['admin', 'billing', 'developer', 'member']);
    expect(select.initial_option.value).toBe('member');
    expect([approve.action_id, approve.value, deny.action_id, deny.value]).toEqual(['join_approve', requestId, 'join_deny', requestId]);
  });

  it('the decided join request DM has no buttons', () => {
    const msg = joinRequestDecidedDm({ requesterName: 'Zed', orgName: 'Acme', approved: true, role: 'developer', deciderName: 'Ana' });
    expect(messageIssues(msg)).toEqual([]);
    expect(buttons(msg)).toEqual([]);
    expect(msg.text).toBe("Ana approved Zed's request to join Acme as Developer.");
  });

  it('the audit log fits one message (≤50 blocks, sections ≤3000) however many events, and says how many it shows', () => {
    const events: AuditEventRow[] = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      at: now,
      orgId: randomUUID(),
      actorType: 'account',
      actorId: randomUUID(),
      actorLabel: `Actor ${i} ${'l'.repeat(150)}`,
      via: 'slack',
      action: 'member.role_changed',
      targetType: 'membership',
      targetId: randomUUID(),
      before: null,
      after: null,
      seq: i + 1,
    }));
    const msg = auditMessage('Acme', events);
    expect(messageIssues(msg)).toEqual([]);
    const shownLines = findAll(msg.blocks, (n) => n.type === 'mrkdwn')
      .map((n) => n.text as string)
      .join('\n')
      .split('\n')
      .filter((l) => l.includes('member.role_changed'));
    const footer = allText(msg.blocks.at(-1));
    expect(footer).toMatch(new RegExp(`Newest ${shownLines.length}\\b`));
    // 40 events (what `/org audit` asks for) are all shown.
    const small = auditMessage('Acme', events.slice(0, 40));
    expect(messageIssues(small)).toEqual([]);
    expect(allText(small.blocks.at(-1))).toMatch(/Newest 40 shown/);
  });

  it('no audit events is one helpful section', () => {
    const msg = auditMessage('Acme', []);
    expect(messageIssues(msg)).toEqual([]);
    expect(msg.text).toMatch(/No audit events/);
  });

  it('the org list of someone in 100 orgs is a valid message', () => {
    const msg = orgListMessage(Array.from({ length: 100 }, (_, i) => myOrg(orgRow(`Org ${i} ${'w'.repeat(60)}`), 'admin', i === 0)));
    expect(messageIssues(msg)).toEqual([]);
  });
});

describe('escaping: a name can never become a live mention', () => {
  const evil = '<!channel> <@U123> <!here|here> & co';

  it('esc() neutralizes <, > and &', () => {
    expect(esc('<!channel> & <@U123>')).toBe('&lt;!channel&gt; &amp; &lt;@U123&gt;');
    expect(esc(null)).toBe('');
  });

  it('no builder puts a raw mention from a name into mrkdwn or fallback text', () => {
    const org = orgRow(evil);
    const inviter = evil;
    const member = memberView(1, { displayName: evil, email: '<!everyone>@x.test' });
    const invite = inviteView(1, { email: '<@W999>@x.test', invitedByName: inviter });
    const current = myOrg(org, 'owner', true);
    const surfaces: Record<string, Json> = {
      home: homeView({
        mine: [current, myOrg(orgRow('Other'), 'member')],
        current,
        viewer: viewerOf('owner'),
        members: [member],
        memberTotal: 1,
        offset: 0,
        pendingInvites: [invite],
        invitesForMe: [{ ...invite, orgName: evil }],
      }),
      membersMessage: { blocks: membersMessage(org, viewerOf('owner'), [member], 1) },
      invitesMessage: { blocks: invitesMessage(org, viewerOf('owner'), [invite]) },
      inviteDm: inviteDm({ inviteId: randomUUID(), orgName: evil, inviterName: inviter, role: 'admin', expiresAt: now, link: 'https://roster.test/invites/x' }),
      inviteAccepted: inviteDecidedDm(evil, 'accepted', 'admin'),
      inviteDeclined: inviteDecidedDm(evil, 'declined'),
      joinRequestDm: joinRequestDm({
        requestId: randomUUID(),
        orgName: evil,
        requesterName: evil,
        requesterEmail: '<!here>@x.test',
        message: evil,
        roles: ['member'],
      }),
      joinDecided: joinRequestDecidedDm({ requesterName: evil, orgName: evil, approved: false, role: null, deciderName: evil }),
      orgList: orgListMessage([current]),
      audit: auditMessage(evil, [
        {
          id: 1,
          at: now,
          orgId: org.id,
          actorType: 'account',
          actorId: null,
          actorLabel: evil,
          via: 'slack',
          action: 'org.renamed',
          targetType: 'org',
          targetId: null,
          before: null,
          after: null,
          seq: 1,
        },
      ]),
      inviteResult: inviteResultModal(org, [
        { email: '<!channel>@x.test', ok: false, code: 'invalid_input', message: evil },
        { email: '<@U1>@x.test', ok: true, invite: invite, token: 't' },
      ]),
      inviteModal: inviteModal(org, ['member']),
      changeRole: changeRoleForAccountModal(org, ['member'], { accountId: randomUUID(), displayName: evil, role: 'member' }),
      leave: leaveModal(org),
      deleteOrg: deleteOrgModal(org),
      removeMember: removeMemberModal(org, { accountId: randomUUID(), displayName: evil }),
      changeInvite: changeInviteModal(invite, ['member']),
      settings: settingsModal(org),
      settingsSaved: settingsSavedModal(org),
    };
    for (const [name, surface] of Object.entries(surfaces)) {
      const live = parsedTexts(surface).filter((t) => LIVE_MENTION.test(t));
      expect({ name, live }).toEqual({ name, live: [] });
    }
    // …and the name is still shown, escaped.
    expect(parsedTexts(surfaces.inviteDm).join()).toContain('&lt;!channel&gt;');
    expect(parsedTexts(surfaces.home).join()).toContain('&lt;@U123&gt;');
  });

  it('Roster’s own date and link markup stays live', () => {
    const msg = inviteDm({
      inviteId: randomUUID(),
      orgName: 'Acme',
      inviterName: 'Ana',
      role: 'member',
      expiresAt: now,
      link: 'https://roster.test/invites/abc',
    });
    const text = parsedTexts(msg).join('\n');
    expect(text).toMatch(/<!date\^\d+\^/);
    expect(text).toContain('<https://roster.test/invites/abc|Open in browser>');
  });
});

describe('overflow menus', () => {
  const opts = (n: number) => Array.from({ length: n }, (_, i) => option(`Option ${i}`, `v${i}`));

  it('no options: no menu at all', () => {
    expect(overflow('menu', [])).toBeUndefined();
  });

  it('a single option becomes a button with the same action and value', () => {
    expect(overflow('menu', opts(1))).toMatchObject({ type: 'button', action_id: 'menu', value: 'v0', text: { text: 'Option 0' } });
  });

  it('2 to 5 options make an overflow menu; more are capped at 5', () => {
    for (const n of [2, 5]) expect(overflow('menu', opts(n))).toMatchObject({ type: 'overflow', options: opts(n) });
    expect((overflow('menu', opts(8)) as Json).options).toHaveLength(5);
  });
});

describe('menus offer only what the viewer may do', () => {
  const labels = (o: { text: { text: string } }[]) => o.map((x) => x.text.text);
  const primary = memberView(0, { role: 'owner', isPrimaryOwner: true, billingEmails: true });
  const owner = memberView(1, { role: 'owner', billingEmails: false });
  const admin = memberView(2, { role: 'admin', billingEmails: false });
  const plainMember = memberView(3, { role: 'member', billingEmails: true });

  it('a member (or billing, developer) gets no member or invite actions at all', () => {
    for (const role of ['member', 'billing', 'developer'] as const) {
      const v = viewerOf(role);
      for (const m of [primary, owner, admin, plainMember]) expect(memberMenu(v, m)).toEqual([]);
      expect(inviteMenu(v, inviteView(1, { role: 'member' }))).toEqual([]);
    }
  });

  it('an admin gets nothing on owners, and change role / remove / billing on members and admins', () => {
    const v = viewerOf('admin');
    expect(memberMenu(v, primary)).toEqual([]);
    expect(memberMenu(v, owner)).toEqual([]);
    expect(labels(memberMenu(v, admin))).toEqual(['Change role', 'Remove from org', 'Send billing emails']);
    expect(labels(memberMenu(v, plainMember))).toEqual(['Change role', 'Remove from org', 'Stop billing emails']);
  });

  it('an admin cannot touch invites for the owner role, but manages the others', () => {
    const v = viewerOf('admin');
    expect(inviteMenu(v, inviteView(1, { role: 'owner' }))).toEqual([]);
    expect(labels(inviteMenu(v, inviteView(2, { role: 'admin' })))).toEqual(['Change role', 'Resend', 'Revoke', 'Copy invite link']);
  });

  it('nobody is offered to remove or demote the primary owner (nor stop their billing emails)', () => {
    for (const role of ['owner', 'admin'] as const) expect(memberMenu(viewerOf(role), primary)).toEqual([]);
  });

  it('an owner manages other owners and everyone else', () => {
    const v = viewerOf('owner');
    expect(labels(memberMenu(v, owner))).toEqual(['Change role', 'Remove from org', 'Send billing emails']);
    expect(labels(memberMenu(v, plainMember))).toEqual(['Change role', 'Remove from org', 'Stop billing emails']);
  });

  it('nobody gets a menu on themselves', () => {
    const me = memberView(9, { role: 'owner' });
    expect(memberMenu(viewerOf('owner', { accountId: me.accountId }), me)).toEqual([]);
  });

  it('menu values name the verb and the target id', () => {
    expect(memberMenu(viewerOf('owner'), plainMember).map((o) => o.value)).toEqual([
      `role:${plainMember.accountId}`,
      `remove:${plainMember.accountId}`,
      `billing_off:${plainMember.accountId}`,
    ]);
    const inv = inviteView(1);
    expect(inviteMenu(viewerOf('owner'), inv).map((o) => o.value)).toEqual([`role:${inv.id}`, `resend:${inv.id}`, `revoke:${inv.id}`, `link:${inv.id}`]);
  });

  it('an expired invite can be resent or revoked, but not changed and has no link to copy', () => {
    expect(labels(inviteMenu(viewerOf('owner'), inviteView(1, { state: 'expired' })))).toEqual(['Resend', 'Revoke']);
  });
});
