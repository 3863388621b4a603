import { describe, expect, it } from 'vitest';
import { q, useScimRoster, userBody } from '../helpers/scim.js';

/** Found by the fuzz test (seed 216264210): overlapping attribute paths must not be a 500. */
const roster = useScimRoster();

describe('attributes that overlap (a sub-attribute and its parent)', () => {
  it.each(['meta.created,meta', 'meta,meta.created', 'name.givenName,name', 'emails.value,emails'])('attributes=%s is answered, never a 5xx', async (attrs) => {
    const h = roster();
    const { token, mail } = await h.newOrgWithToken();
    const created = await h.scim(token, 'POST', '/Users', userBody(mail('a')));
    const one = `/Users/${created.body.id}`;
    for (const path of [
      `/Users?attributes=${q(attrs)}`,
      `/Users?excludedAttributes=${q(attrs)}`,
      `${one}?attributes=${q(attrs)}`,
      `${one}?excludedAttributes=${q(attrs)}`,
    ]) {
      const res = await h.scim(token, 'GET', path);
      expect(res.status, `${path}: ${res.text}`).toBeLessThan(500);
    }
  });
});
