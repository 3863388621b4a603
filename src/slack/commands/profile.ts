import { esc } from '../blocks/kit.js';
import { type CommandCtx, say } from './types.js';

/** `/org profile [display name]`: my own display name, shown to the orgs I belong to. */
export async function profile(c: CommandCtx) {
  if (!c.rest) {
    await say(c, `Your display name is *${esc(c.me.account.displayName)}*. Change it with \`/org profile <new name>\`.`);
    return;
  }
  const after = await c.deps.domain.accounts.rename(c.me.actor, c.rest);
  await say(c, `Your display name is now *${esc(after.displayName)}*.`);
}
