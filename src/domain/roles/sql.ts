import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { roleDefinition, roles } from './catalogue.js';

/** ORDER BY for member lists: the catalogue's list groups (owners, admins, everyone else). */
export function memberListOrder(role: SQLWrapper): SQL {
  const groups = roles.map((r) => ({ role: r, group: roleDefinition(r).listGroup }));
  const last = Math.max(...groups.map((g) => g.group));
  const whens = groups.filter((g) => g.group !== last).map((g) => sql`when ${g.role} then ${sql.raw(String(g.group))}`);
  return sql`case ${role} ${sql.join(whens, sql` `)} else ${sql.raw(String(last))} end`;
}
