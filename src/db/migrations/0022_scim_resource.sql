ALTER TABLE "scim_users" ALTER COLUMN "account_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "scim_users" ALTER COLUMN "email" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "scim_users" ADD COLUMN "resource" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- Users provisioned before the resource was kept: what Roster kept of them, as it answered them.
UPDATE "scim_users" SET "resource" = jsonb_strip_nulls(jsonb_build_object(
  'name', CASE WHEN "given_name" IS NULL AND "family_name" IS NULL THEN NULL ELSE jsonb_strip_nulls(jsonb_build_object(
    'formatted', concat_ws(' ', "given_name", "family_name"), 'familyName', "family_name", 'givenName', "given_name")) END,
  'displayName', "display_name",
  'emails', jsonb_build_array(jsonb_build_object('value', "email", 'type', 'work', 'primary', true))
)) WHERE "resource" = '{}'::jsonb;
