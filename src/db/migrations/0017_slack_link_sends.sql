CREATE TABLE "slack_link_sends" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"team_id" text NOT NULL,
	"user_id" text NOT NULL,
	"sent_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "slack_email_links" ADD COLUMN "workspace" text;--> statement-breakpoint
CREATE INDEX "slack_link_sends_email_idx" ON "slack_link_sends" USING btree (lower("email"),"sent_at");--> statement-breakpoint
CREATE INDEX "slack_link_sends_user_idx" ON "slack_link_sends" USING btree ("team_id","user_id","sent_at");