CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"operator" boolean DEFAULT false NOT NULL,
	CONSTRAINT "api_keys_scope_check" CHECK ("api_keys"."scope" in ('read', 'write')),
	CONSTRAINT "api_keys_operator_has_no_org" CHECK ("api_keys"."operator" = ("api_keys"."org_id" is null))
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_created_by_id_accounts_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_uq" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_active_name_uq" ON "api_keys" USING btree (coalesce("org_id"::text, 'operator'),lower("name")) WHERE "api_keys"."revoked_at" is null and "api_keys"."expires_at" is null;--> statement-breakpoint
-- API keys are cached like SCIM tokens, and invalidated on the same channel: a revoke, rotation or the
-- org's deletion (any process, or by hand) empties every process's credential caches at commit.
CREATE TRIGGER api_keys_changed
  AFTER UPDATE OF key_hash, org_id, revoked_at, expires_at, scope OR DELETE ON api_keys
  FOR EACH STATEMENT EXECUTE FUNCTION roster_scim_tokens_changed();
