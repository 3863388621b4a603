-- Events are numbered after they commit (src/domain/event-numbers.ts): the numbering step finds the
-- unnumbered org events through this small partial index (it holds only events waiting for a number).
-- In SQL only, like the triggers: drizzle's schema does not describe partial indexes on expressions it
-- does not write.
CREATE INDEX IF NOT EXISTS "audit_unnumbered_idx" ON "audit_events" USING btree ("id") WHERE "seq" IS NULL AND "org_id" IS NOT NULL;
