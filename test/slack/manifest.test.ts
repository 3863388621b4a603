import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { botScopes } from '../../src/slack/scopes.js';

/** manifest.yml is what an admin pastes into Slack: it must ask for what Roster uses, and subscribe to what it handles. */
const manifest = readFileSync(path.resolve(import.meta.dirname, '../../manifest.yml'), 'utf8');

/** The items of a YAML list that follows `key:` (this manifest's plain block style). */
function listAfter(key: string): string[] {
  const lines = manifest.split('\n');
  const at = lines.findIndex((l) => l.trim() === `${key}:`);
  const items: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\s*- (\S+)\s*$/.exec(l);
    if (!m) break;
    items.push(m[1]!);
  }
  return items;
}

describe('manifest.yml', () => {
  it('asks for exactly the bot scopes Roster uses (src/slack/scopes.ts), and no im:write', () => {
    expect(listAfter('bot').sort()).toEqual([...botScopes].sort());
  });

  it('subscribes to the events Roster handles: App Home, uninstall and revoked tokens', () => {
    expect(listAfter('bot_events').sort()).toEqual(['app_home_opened', 'app_uninstalled', 'tokens_revoked']);
  });

  it('sends installers back to the OAuth redirect path', () => {
    expect(listAfter('redirect_urls')).toEqual(['https://roster.example.com/slack/oauth_redirect']);
  });
});
