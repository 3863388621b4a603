-- Every Roster process caches Slack installations (one query less per Slack request in distribution
-- mode). Any change (an install, a reinstall with a new token, an uninstall, by any process or by hand)
-- tells them all at commit, on the channel they LISTEN to.
CREATE OR REPLACE FUNCTION roster_slack_installations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('roster_slack_installations', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER slack_installations_changed
  AFTER INSERT OR UPDATE OR DELETE ON slack_installations
  FOR EACH STATEMENT EXECUTE FUNCTION roster_slack_installations_changed();
