CREATE TABLE "org_event_seqs" (
	"org_id" uuid PRIMARY KEY NOT NULL,
	"last_seq" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "seq" bigint;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_org_seq_idx" ON "audit_events" USING btree ("org_id","seq") WHERE "audit_events"."seq" is not null;--> statement-breakpoint
-- Number the events recorded before this release in the order they were written (their id).
UPDATE "audit_events" SET "seq" = numbered.n FROM (SELECT "id", row_number() OVER (PARTITION BY "org_id" ORDER BY "id") AS n FROM "audit_events" WHERE "org_id" IS NOT NULL) numbered WHERE "audit_events"."id" = numbered."id";--> statement-breakpoint
INSERT INTO "org_event_seqs" ("org_id", "last_seq") SELECT "org_id", max("seq") FROM "audit_events" WHERE "org_id" IS NOT NULL GROUP BY "org_id";
