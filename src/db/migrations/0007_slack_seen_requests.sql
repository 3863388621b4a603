-- UNLOGGED: no WAL, so recording a request costs no commit flush (measured: p99 ack 400 ms with
-- it logged, on this disk). After a database crash or failover the table starts empty, which reopens
-- replays of the last 5 minutes only.
CREATE UNLOGGED TABLE "slack_seen_requests" (
	"signature_hash" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "slack_seen_requests_seen_idx" ON "slack_seen_requests" USING btree ("seen_at");