-- Events' numbers move out of audit_events (domain/event-numbers.ts): numbering used to update every
-- audit row a moment after it was written — a new version of a wide row (its before/after JSON), five
-- index entries and its WAL, for each event. Now an audit row is written once and never changed; the
-- number is a narrow row of event_seqs, and the events waiting for one are listed in unnumbered_events,
-- filled by a trigger in the statement that writes them (so no writer can forget it). Existing numbers
-- and the events still waiting keep their place.
CREATE TABLE "event_seqs" (
	"event_id" bigint PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL,
	"seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "unnumbered_events" (
	"id" bigint PRIMARY KEY NOT NULL,
	"org_id" uuid NOT NULL
);
--> statement-breakpoint
-- A queue: rows come and go all day, so it is vacuumed after every thousand dead rows, not after a fifth of the table.
ALTER TABLE "unnumbered_events" SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);
--> statement-breakpoint
INSERT INTO "event_seqs" ("event_id", "org_id", "seq") SELECT "id", "org_id", "seq" FROM "audit_events" WHERE "seq" IS NOT NULL AND "org_id" IS NOT NULL;
--> statement-breakpoint
INSERT INTO "unnumbered_events" ("id", "org_id") SELECT "id", "org_id" FROM "audit_events" WHERE "seq" IS NULL AND "org_id" IS NOT NULL;
--> statement-breakpoint
CREATE UNIQUE INDEX "event_seqs_org_seq_idx" ON "event_seqs" USING btree ("org_id","seq");
--> statement-breakpoint
CREATE FUNCTION roster_queue_for_numbering() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO unnumbered_events (id, org_id) SELECT id, org_id FROM written WHERE org_id IS NOT NULL;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Once per statement (an emit batch or a sweep writes many events in one).
CREATE TRIGGER audit_events_queue_for_numbering AFTER INSERT ON "audit_events" REFERENCING NEW TABLE AS written
  FOR EACH STATEMENT EXECUTE FUNCTION roster_queue_for_numbering();
--> statement-breakpoint
DROP INDEX IF EXISTS "audit_unnumbered_idx";
--> statement-breakpoint
DROP INDEX "audit_org_seq_idx";
--> statement-breakpoint
ALTER TABLE "audit_events" DROP COLUMN "seq";
