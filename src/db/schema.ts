/**
 * The drizzle schema, one file per group of tables (drizzle-kit reads it through this file; the
 * migrations in migrations/ are generated from it and committed).
 */
export * from './schema/enums.js';
export * from './schema/people.js';
export * from './schema/orgs.js';
export * from './schema/invites.js';
export * from './schema/audit.js';
export * from './schema/delivery.js';
export * from './schema/scim.js';
export * from './schema/domains.js';
export * from './schema/slack.js';
export * from './schema/api.js';
export * from './schema/webhooks.js';
