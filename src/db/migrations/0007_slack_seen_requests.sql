CREATE TABLE "slack_seen_requests" (
	"signature_hash" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "slack_seen_requests_seen_idx" ON "slack_seen_requests" USING btree ("seen_at");