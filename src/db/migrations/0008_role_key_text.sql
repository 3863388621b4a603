ALTER TABLE "invites" ALTER COLUMN "role" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "join_requests" ALTER COLUMN "role" SET DATA TYPE text;--> statement-breakpoint
-- One rewrite of memberships, not two.
ALTER TABLE "memberships" ALTER COLUMN "role" SET DATA TYPE text, ALTER COLUMN "scim_base_role" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "orgs" ALTER COLUMN "scim_default_role" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "orgs" ALTER COLUMN "scim_default_role" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "orgs" ALTER COLUMN "scim_default_role" SET DEFAULT 'member';--> statement-breakpoint
ALTER TABLE "scim_groups" ALTER COLUMN "role" SET DATA TYPE text;--> statement-breakpoint
ALTER TABLE "scim_pending_mappings" ALTER COLUMN "role" SET DATA TYPE text;--> statement-breakpoint
DROP TYPE "public"."role";