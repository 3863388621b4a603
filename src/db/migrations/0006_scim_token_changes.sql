-- Every Roster process caches which org a SCIM bearer token belongs to (one query less per SCIM
-- request). A change that can end a token's validity (revoked, rotated, deleted with its org, by any
-- process or by hand) tells them all at commit, on the channel they LISTEN to.
CREATE OR REPLACE FUNCTION roster_scim_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('roster_scim_tokens', '');
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER scim_tokens_changed
  AFTER UPDATE OF token_hash, org_id, revoked_at, expires_at OR DELETE ON scim_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION roster_scim_tokens_changed();
