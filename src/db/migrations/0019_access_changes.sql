-- Every process that answers "may this person do this?" (POST /api/v1/orgs/{org}/authorize) keeps the
-- memberships it found in memory while it listens on roster_access (src/domain/access-cache.ts). These
-- triggers tell every process, at commit, when a found answer may have changed: a membership's role or
-- status changed or it ended, an account's email changed, or a Slack identity moved or went. New rows do
-- not notify (only found memberships are kept), nor do updates that change none of that: a NOTIFY takes a
-- lock at commit that serializes committing transactions.
CREATE FUNCTION roster_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
      PERFORM pg_notify('roster_access', '');
    END IF;
  ELSIF TG_TABLE_NAME = 'memberships' THEN
    IF EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (
      SELECT 1 FROM new_rows n
      WHERE n.id = o.id AND n.org_id = o.org_id AND n.account_id = o.account_id AND n.role = o.role AND n.status = o.status)) THEN
      PERFORM pg_notify('roster_access', '');
    END IF;
  ELSIF TG_TABLE_NAME = 'accounts' THEN
    IF EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (
      SELECT 1 FROM new_rows n WHERE n.id = o.id AND lower(n.email) IS NOT DISTINCT FROM lower(o.email))) THEN
      PERFORM pg_notify('roster_access', '');
    END IF;
  ELSIF TG_TABLE_NAME = 'slack_identities' THEN
    IF EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS (
      SELECT 1 FROM new_rows n WHERE n.team_id = o.team_id AND n.user_id = o.user_id AND n.account_id = o.account_id)) THEN
      PERFORM pg_notify('roster_access', '');
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER memberships_access_updated AFTER UPDATE ON memberships
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
--> statement-breakpoint
CREATE TRIGGER memberships_access_deleted AFTER DELETE ON memberships
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
--> statement-breakpoint
CREATE TRIGGER accounts_access_updated AFTER UPDATE ON accounts
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
--> statement-breakpoint
CREATE TRIGGER accounts_access_deleted AFTER DELETE ON accounts
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
--> statement-breakpoint
CREATE TRIGGER slack_identities_access_updated AFTER UPDATE ON slack_identities
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
--> statement-breakpoint
CREATE TRIGGER slack_identities_access_deleted AFTER DELETE ON slack_identities
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_access_changed();
