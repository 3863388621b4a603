CREATE TABLE "slack_installations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"enterprise_id" text,
	"team_id" text,
	"is_enterprise_install" boolean DEFAULT false NOT NULL,
	"sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "slack_installations_team_uq" ON "slack_installations" USING btree ("team_id") WHERE not "slack_installations"."is_enterprise_install";--> statement-breakpoint
CREATE UNIQUE INDEX "slack_installations_enterprise_uq" ON "slack_installations" USING btree ("enterprise_id") WHERE "slack_installations"."is_enterprise_install";