-- The update triggers of 0019 were statement triggers with transition tables: every UPDATE of an account
-- or a membership (a SCIM create sets the new account's active org; a PATCH suspends) kept its old and new
-- rows in memory and ran PL/pgSQL to compare them, though few such updates change what an answer cached
-- by access-cache.ts depends on. Row triggers with a WHEN condition are checked by PostgreSQL itself and
-- call the function only when it does (about 0.09 ms less per SCIM create; bench/RESULTS.md, 2026-12-04).
-- The same changes notify as before; deletes keep their statement triggers (one NOTIFY per statement).
CREATE FUNCTION roster_access_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('roster_access', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER memberships_access_updated ON memberships;
--> statement-breakpoint
CREATE TRIGGER memberships_access_updated AFTER UPDATE ON memberships FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.org_id IS DISTINCT FROM NEW.org_id OR OLD.account_id IS DISTINCT FROM NEW.account_id
        OR OLD.role IS DISTINCT FROM NEW.role OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION roster_access_notify();
--> statement-breakpoint
DROP TRIGGER accounts_access_updated ON accounts;
--> statement-breakpoint
CREATE TRIGGER accounts_access_updated AFTER UPDATE ON accounts FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR lower(OLD.email) IS DISTINCT FROM lower(NEW.email))
  EXECUTE FUNCTION roster_access_notify();
--> statement-breakpoint
DROP TRIGGER slack_identities_access_updated ON slack_identities;
--> statement-breakpoint
CREATE TRIGGER slack_identities_access_updated AFTER UPDATE ON slack_identities FOR EACH ROW
  WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.account_id IS DISTINCT FROM NEW.account_id)
  EXECUTE FUNCTION roster_access_notify();
