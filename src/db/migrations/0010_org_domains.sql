CREATE TYPE "public"."domain_enrollment" AS ENUM('off', 'suggest', 'auto_join');--> statement-breakpoint
CREATE TYPE "public"."domain_status" AS ENUM('pending', 'verified', 'failed');--> statement-breakpoint
CREATE TABLE "org_domains" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"org_id" uuid NOT NULL,
	"domain" text NOT NULL,
	"status" "domain_status" DEFAULT 'pending' NOT NULL,
	"challenge" text NOT NULL,
	"pending_since" timestamp with time zone DEFAULT now() NOT NULL,
	"last_checked_at" timestamp with time zone,
	"last_check_result" text,
	"verified_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"enrollment" "domain_enrollment" DEFAULT 'off' NOT NULL,
	"enrollment_role" text DEFAULT 'member' NOT NULL,
	"created_by_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "org_domains" ADD CONSTRAINT "org_domains_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."orgs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "org_domains" ADD CONSTRAINT "org_domains_created_by_id_accounts_id_fk" FOREIGN KEY ("created_by_id") REFERENCES "public"."accounts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "org_domains_org_domain_uq" ON "org_domains" USING btree ("org_id","domain");--> statement-breakpoint
CREATE UNIQUE INDEX "org_domains_verified_uq" ON "org_domains" USING btree ("domain") WHERE "org_domains"."status" = 'verified';--> statement-breakpoint
CREATE INDEX "org_domains_pending_idx" ON "org_domains" USING btree ("last_checked_at") WHERE "org_domains"."status" = 'pending';